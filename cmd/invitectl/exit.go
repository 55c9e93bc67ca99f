package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/pkg/words"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitPartial     = 3
	exitAuth        = 4
	exitMore        = 5
	exitInterrupted = 130
	// exitClosedPipe is what shells report for a command that SIGPIPE
	// ended (128 + 13): its standard output was closed before it was done.
	exitClosedPipe = 141
)

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// usageArgs makes a cobra argument check report a usage error, naming the
// command without the program's name, which the printed error starts with
// ("invitectl: get: requires at least 1 arg").
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
			return usageError{fmt.Errorf("%s: %w", name, err)}
		}
		return nil
	}
}

// partialError says the command finished but some items failed; what failed
// has already been printed.
type partialError struct{ failed int }

func (e partialError) Error() string {
	return words.Count(int64(e.failed), "item", "items") + " failed"
}

// moreError says that a run with --limit finished its batch and left
// items for the next run; the command to run has already been printed.
type moreError struct{ left int }

func (e moreError) Error() string {
	return words.Count(int64(e.left), "item", "items") + " left for the next run"
}

// hinter is an error that carries advice (auth.Error's fix, the command
// that resumes a run), which exitCode prints on a line of its own under the
// error. Error() never holds the advice: an error's text is escaped whole,
// so a line break in it would print as the two characters \n.
type hinter interface{ Hint() string }

// hinted is err with advice for the line under it.
type hinted struct {
	err  error
	hint string
}

func (e hinted) Error() string { return e.err.Error() }
func (e hinted) Unwrap() error { return e.err }
func (e hinted) Hint() string  { return e.hint }

// authError is a credential or permission problem, with the fix.
type authError struct{ err error }

func (e authError) Error() string { return e.err.Error() }
func (e authError) Unwrap() error { return e.err }

// exitCode maps an error to the process's exit code and prints it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var (
		usage   usageError
		partial partialError
		more    moreError
		authErr authError
		input   *source.InputError
	)
	if strings.HasPrefix(err.Error(), "unknown command") {
		err = usageError{err} // cobra's own error for a mistyped command
	}
	switch {
	case errors.Is(err, errStdoutClosed):
		return exitClosedPipe // nobody reads what a message would say
	case errors.As(err, &partial):
		return exitPartial
	case errors.As(err, &more):
		return exitMore
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "invitectl: interrupted")
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, &input):
		printError(stderr, err)
		return exitUsage
	case errors.As(err, &authErr), (invitations.IsAuth(err) || invitations.IsDenied(err)):
		printError(stderr, err)
		if hint := auth.Explain(err); hint != "" {
			fmt.Fprintf(stderr, "  %s\n", safetext.Terminal(hint))
		}
		return exitAuth
	}
	printError(stderr, err)
	return exitError
}

// printError prints err, then the advice it carries on lines of their own,
// each escaped as one line.
func printError(stderr io.Writer, err error) {
	fmt.Fprintf(stderr, "invitectl: %s\n", errorText(err))
	for _, h := range hints(err) {
		fmt.Fprintf(stderr, "  %s\n", safetext.Terminal(auth.Scrub(h)))
	}
}

// hints are the advice of the errors in err's chain, outermost first.
func hints(err error) []string {
	var out []string
	for err != nil {
		if h, ok := err.(hinter); ok && h.Hint() != "" {
			out = append(out, h.Hint())
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				out = append(out, hints(e)...)
			}
			return out
		default:
			return out
		}
	}
	return out
}

// errorText is an error as it may be printed: scrubbed of credentials as
// the log is (a token endpoint may echo the signed assertion), and escaped
// (an API message or a file name may hold control characters), on one line.
func errorText(err error) string {
	return safetext.Terminal(auth.Scrub(err.Error()))
}
