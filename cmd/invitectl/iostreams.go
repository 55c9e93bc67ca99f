package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"
)

// ioStreams is the terminal seam, after gh's pkg/iostreams: where a command
// reads and writes, and what those streams are. stdout is for data, stderr
// for progress, warnings and errors. Prompts, progress bars, their width
// and colour all follow from the flags here, so a test that hands in
// buffers can pretend to be a terminal of any width, or none
// (newTestStreams in iostreams_test.go).
type ioStreams struct {
	in          io.Reader
	out, errOut io.Writer
	// stdinTTY decides whether a prompt can be answered, stdoutTTY whether
	// data may be coloured, stderrTTY whether progress is redrawn in place.
	stdinTTY, stdoutTTY, stderrTTY bool
	// ansi says that the stdout terminal interprets ANSI colour sequences
	// (false on a Windows console whose virtual-terminal mode could not be
	// turned on).
	ansi bool
	// width reads stderr's terminal width in columns, at every call (the
	// terminal may be resized); 0 when unknown. nil means unknown.
	width  func() int
	getenv func(string) string
	// signals delivers SIGINT/SIGTERM; nil in tests.
	signals func() (<-chan os.Signal, func())
	// browse opens a URL in the user's browser (auth login); nil means
	// there is none, and the URL is only printed.
	browse func(url string) error
	// exit ends the process at once (a second interrupt); nil is os.Exit.
	exit func(code int)
}

func newSystemIO() ioStreams {
	stdoutTTY := term.IsTerminal(int(os.Stdout.Fd()))
	return ioStreams{
		in: os.Stdin, out: os.Stdout, errOut: os.Stderr,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: stdoutTTY,
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		ansi:      stdoutTTY && enableANSI(os.Stdout),
		width: func() int {
			w, _, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil || w < 0 {
				return 0
			}
			return w
		},
		getenv: os.Getenv,
		signals: func() (<-chan os.Signal, func()) {
			// A closed pipe on stdout (invitectl ... | head -1) fails the
			// write instead of killing the process, so every deferred
			// clean-up runs and no temporary file is left.
			signal.Ignore(syscall.SIGPIPE)
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			return ch, func() { signal.Stop(ch) }
		},
		browse: openBrowser,
	}
}

// errStdoutClosed is what a write to standard output returns once nobody
// reads it any more (invitectl list | head -1): the command ends there,
// quietly, as SIGPIPE would have ended it had invitectl not ignored it to
// clean up.
var errStdoutClosed = errors.New("standard output was closed")

// stdoutWriter is standard output as the commands write to it: the first
// write to a closed pipe fails with errStdoutClosed, and so does every write
// after it, at once.
type stdoutWriter struct {
	w      io.Writer
	closed atomic.Bool
}

func (s *stdoutWriter) Write(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, errStdoutClosed
	}
	n, err := s.w.Write(p)
	if err != nil && closedPipe(err) {
		s.closed.Store(true)
		return n, fmt.Errorf("%w (%w)", errStdoutClosed, err)
	}
	return n, err
}

// colour says whether data on stdout may be coloured: on a terminal that
// understands it, unless NO_COLOR is set (https://no-color.org) or TERM is
// dumb.
func (s ioStreams) colour() bool {
	return s.stdoutTTY && s.ansi && s.env("NO_COLOR") == "" && s.env("TERM") != "dumb"
}

func (s ioStreams) env(k string) string {
	if s.getenv == nil {
		return ""
	}
	return s.getenv(k)
}

// terminalWriter is stderr as the progress printer sees it: a writer that
// knows its width (pkg/progress fits its redrawn line to it).
type terminalWriter struct {
	io.Writer
	width func() int
}

// Width is the terminal's width in columns; 0 when unknown.
func (t terminalWriter) Width() int {
	if t.width == nil {
		return 0
	}
	return t.width()
}

// palette colours the words of a table that need attention. Its zero value
// colours nothing.
type palette struct{ on bool }

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

// attention is the colour of the outcomes that need a look: red for what
// did not happen and will not by itself, yellow for what may or may not
// have happened, or is held back.
var attention = map[string]string{
	"error": ansiRed, "failed": ansiRed, "rejected": ansiRed, "refused": ansiRed,
	"in_doubt": ansiYellow, "in_flight": ansiYellow, "skipped": ansiYellow,
}

// cell pads word to width columns and colours it when it needs attention;
// the padding stays outside the colour, so columns line up either way.
func (p palette) cell(word string, width int) string {
	pad := ""
	if n := width - len([]rune(word)); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	if c, ok := attention[word]; ok && p.on {
		return c + word + ansiReset + pad
	}
	return word + pad
}

// openBrowser opens url in the user's browser: $BROWSER when set (as gh
// and Python's webbrowser honour it), else the platform's opener. It does
// not wait for the browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch b := os.Getenv("BROWSER"); {
	case b != "":
		cmd = exec.Command(b, url)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", url)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open a browser: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
