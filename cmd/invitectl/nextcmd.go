package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/safetext"
)

// contextFlags are the global flags that a later command of the same
// campaign needs to reach the same API, as the same administrator, with
// the same ledger. A command that invitectl tells the user to run next
// (resume, apply) keeps those given on this command line: without them a
// resume of a --sandbox run would go to Google, and one with another
// --state-dir would not see the ledger that keeps it exactly-once.
// Environment variables and the profile's settings are not repeated: they
// are still there for the next command.
var contextFlags = []string{
	"profile", "customer", "endpoint", "auth-endpoint",
	"credentials", "subject", "impersonate-service-account",
	"state-dir", "sandbox", "sandbox-world", "sandbox-latency", "sandbox-quota",
}

// givenFlags are cmd's context flags as the command line gave them, read
// before the settings are settled (the sandbox replaces --endpoint).
func givenFlags(cmd *cobra.Command) []string {
	var args []string
	f := cmd.Flags()
	for _, name := range contextFlags {
		fl := f.Lookup(name)
		switch {
		case fl == nil || !fl.Changed:
		case fl.Value.Type() == "bool" && fl.Value.String() == "true":
			args = append(args, "--"+name)
		case fl.Value.Type() == "bool":
			args = append(args, "--"+name+"=false")
		default:
			args = append(args, "--"+name, fl.Value.String())
		}
	}
	return args
}

// nextCommand is the invitectl command line that the user is told to run
// next: args, then the context flags of this one, each shell-quoted, the
// whole escaped for the terminal.
func (a *app) nextCommand(args ...string) string {
	var b strings.Builder
	b.WriteString("invitectl")
	quoteOnto(&b, args)
	quoteOnto(&b, a.given)
	return safetext.Terminal(b.String())
}

// quoteOnto writes each of words to b, shell-quoted, after a space.
func quoteOnto(b *strings.Builder, words []string) {
	for _, w := range words {
		b.WriteString(" " + shellQuote(w))
	}
}

// shellQuote makes s one word of a POSIX shell: as it is when it holds only
// characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// nextFlags are this command's context flags as words to end a suggested
// command with (report.Summary.NextFlags): shell-quoted, each after a space.
func (a *app) nextFlags() string {
	var b strings.Builder
	quoteOnto(&b, a.given)
	return b.String()
}
