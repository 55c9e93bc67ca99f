// Package ledger is the per-customer memory of every send and cancel that
// invitectl made, from any plan, results journal or single command. A
// results journal makes one run exactly-once; the ledger makes every run of
// one administrator's machine exactly-once per customer: a second journal, a
// copied plan, two overlapping runs or a re-plan while Google's index still
// lags can no longer email anyone twice. See docs/ARCHITECTURE.md.
//
// The ledger is one append-only file per customer in the user's state folder
// (Dir), shared by every invitectl process. Each process reads it once and
// then only the records others appended since. Reserve, the step that looks
// an address up and records the intent to call, runs under an exclusive
// file lock, so two processes can never both decide to email one address.
// Writes are group-committed: one write and one fsync per batch.
//
// # File format
//
// UTF-8 text, one record per line, fields separated by tabs. The first line
// is the header:
//
//	invitectl-ledger	1	C03abc123
//
// then records, each starting with its type:
//
//	src	ID	UNIXMS	PID	COMMAND	PLANSHA256	"PLAN PATH"	"JOURNAL PATH"
//	i	UNIXMS	ID	ACTION	EMAIL
//	o	UNIXMS	ID	ACTION	EMAIL	EFFECT
//
// A src record introduces a source (a results journal, or one single
// command) under a random ID that later records use; the paths are Go-quoted
// strings. An i record is an intent: the source is about to send (ACTION s)
// or cancel (c) for EMAIL, which is in address.Key form. An o record is the
// outcome of the source's open intents for EMAIL: EFFECT y (it took
// effect), n (provably none: refused, throttled, never sent) or u (unknown:
// in doubt). Times are Unix milliseconds. A torn last line (a crash
// mid-write) is dropped before the next append; any other malformed line is
// an error naming the line.
package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Version of the file format.
const Version = 1

const magic = "invitectl-ledger"

// Action is a mutating call.
type Action byte

// The mutating calls.
const (
	Send   Action = 's'
	Cancel Action = 'c'
)

func (a Action) String() string {
	switch a {
	case Send:
		return "send"
	case Cancel:
		return "cancel"
	}
	return "unknown"
}

// ParseAction reads "send" or "cancel".
func ParseAction(s string) (Action, error) {
	switch s {
	case "send":
		return Send, nil
	case "cancel":
		return Cancel, nil
	}
	return 0, fmt.Errorf("not a mutating action: %q", s)
}

// Effect is what a call did, as far as anyone knows.
type Effect byte

// The effects of a call.
const (
	// Pending: an intent with no outcome yet. The call may have left; the
	// source is working on it, or was killed (resume its journal).
	Pending Effect = 0
	// Took: the call took effect.
	Took Effect = 'y'
	// None: the call provably had no effect (refused, throttled, not made).
	None Effect = 'n'
	// Unknown: the source could not tell (in doubt).
	Unknown Effect = 'u'
)

func (e Effect) String() string {
	switch e {
	case Pending:
		return "pending"
	case Took:
		return "took effect"
	case None:
		return "no effect"
	case Unknown:
		return "unknown"
	}
	return "invalid"
}

// Source is who makes calls: one results journal (across all its runs), or
// one single command.
type Source struct {
	ID      string    // random, 16 hex digits; a journal keeps its own
	At      time.Time // when this record of it was written
	PID     int
	Command string // apply, resume, run, send, cancel
	PlanSHA string // the plan's sha256; empty for a single command
	Plan    string // the plan's path; empty for a single command
	Journal string // the results journal's absolute path; empty for a single command
}

// Describe names the source for a person: the journal to resume, or the
// command that made the call.
func (s *Source) Describe() string {
	if s == nil {
		return "an unknown source"
	}
	if s.Journal != "" {
		return "journal " + s.Journal
	}
	return fmt.Sprintf("'invitectl %s' (pid %d)", s.Command, s.PID)
}

// Call is one send or cancel the ledger knows: the latest intent of one
// source for one address, and its effect.
type Call struct {
	Email  string
	Action Action
	At     time.Time // the intent's time: the call left at or after it
	Effect Effect
	Source *Source
}

// Dir returns the default ledger folder: $INVITECTL_STATE_DIR, else the
// platform's per-user state folder ($XDG_STATE_HOME/invitectl, else
// ~/.local/state/invitectl; %LocalAppData%\invitectl on Windows).
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("INVITECTL_STATE_DIR"); d != "" {
		return d, nil
	}
	if runtime.GOOS == "windows" {
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "invitectl"), nil
		}
		return "", errors.New("no state folder: %LocalAppData% is not set; pass --state-dir")
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "invitectl"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state folder: %w; pass --state-dir", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "invitectl"), nil
}

// Path is the ledger file of customer in dir.
func Path(dir, customer string) string {
	return filepath.Join(dir, customer+".ledger")
}

// encode helpers

func quote(s string) string { return fmt.Sprintf("%q", s) }

func validField(s string) bool { return !strings.ContainsAny(s, "\t\n\r") }
