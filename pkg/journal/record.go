package journal

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/invitectl/invitectl/pkg/pace"

	"github.com/invitectl/invitectl/pkg/address"
)

// Journal identity; Open and Read refuse anything else.
const (
	Kind    = "invitectl/results"
	Version = 1
)

// Record types.
const (
	TypeIntent  = "intent"
	TypeOutcome = "outcome"
	TypeRun     = "run"
)

// Final outcomes of a plan item.
const (
	OutcomeDone     = "done"
	OutcomeSkipped  = "skipped"
	OutcomeRejected = "rejected"
	OutcomeFailed   = "failed"
	OutcomeInDoubt  = "in_doubt"
)

// NeedsAttention reports whether an outcome asks the administrator to look:
// rejected, failed or in doubt.
func NeedsAttention(outcome string) bool {
	switch outcome {
	case OutcomeRejected, OutcomeFailed, OutcomeInDoubt:
		return true
	}
	return false
}

// Run events.
const (
	EventStart       = "start"
	EventInterrupted = "interrupted"
	EventEnd         = "end"
)

// Header is the journal's first line.
type Header struct {
	Kind       string    `json:"kind"`
	Version    int       `json:"version"`
	Plan       PlanRef   `json:"plan"`
	Customer   string    `json:"customer"`
	APIVersion string    `json:"apiVersion"`
	CreatedAt  time.Time `json:"createdAt"`
	// LedgerSource is the ID under which the customer's ledger records this
	// journal's calls, the same across all its runs.
	LedgerSource string `json:"ledgerSource,omitempty"`
}

// PlanRef names the plan a journal executes.
type PlanRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Items  int    `json:"items"` // plan items
}

// Record is one line after the header.
type Record struct {
	Type string    `json:"type"` // intent, outcome, run
	At   time.Time `json:"at"`
	// Row is the plan item's input row, 0 for pruned invitations.
	Row    int    `json:"row,omitempty"`
	Email  string `json:"email,omitempty"`
	Action string `json:"action,omitempty"` // send, cancel, none
	Reason string `json:"reason,omitempty"` // the plan's reason

	// Attempt (intent) is the number of the call about to leave: 1, 2, ...
	// One intent is written per mutating call, so intents count the calls.
	Attempt int `json:"attempt,omitempty"`

	// Outcome fields.
	Outcome string `json:"outcome,omitempty"` // done, skipped, rejected, failed, in_doubt
	// Attempts is the number of mutating calls made for this item in total.
	Attempts int `json:"attempts,omitempty"`
	// QuotaErrors counts the 429s met since the item's previous outcome
	// record, so that summing it over outcome records counts each 429 once.
	QuotaErrors int    `json:"quotaErrors,omitempty"`
	HTTPCode    int    `json:"httpCode,omitempty"`
	Message     string `json:"message,omitempty"` // the API's message or our explanation
	Operation   string `json:"operation,omitempty"`
	Detail      string `json:"detail,omitempty"` // e.g. "reconciled: mailsSentCount 2 -> 3"
	// NotSent marks a failed outcome that provably had no effect (quota
	// errors or refused connections until the retry budget ran out, or
	// calls a read-back showed did not happen): a later run tries again.
	NotSent bool `json:"notSent,omitempty"`

	// Run fields: Event is start, interrupted or end.
	Event string `json:"event,omitempty"`
	PID   int    `json:"pid,omitempty"`
	// Counts holds the run's counters on its interrupted and end records.
	// A pointer keeps Record small and comparable.
	Counts *RunCounts `json:"counts,omitempty"`
	// Pace is what the run learned of the API's quota (interrupted and end
	// records): the next run starts from it.
	Pace *pace.State `json:"pace,omitempty"`
}

// RunCounts are what one run did, as its interrupted or end record says.
type RunCounts struct {
	Done        int `json:"done"`
	Skipped     int `json:"skipped"`
	Rejected    int `json:"rejected"`
	Failed      int `json:"failed"`
	InDoubt     int `json:"inDoubt"`
	Calls       int `json:"calls"`
	Retries     int `json:"retries"`
	QuotaErrors int `json:"quotaErrors"`
}

// Key identifies the plan item a record belongs to; State.Final and
// State.Pending are keyed by it. See ItemKey.
func (r Record) Key() string { return ItemKey(r.Row, r.Email, r.Action) }

// ItemKey identifies a plan item. An item that acts (send or cancel) and a
// pruned item (row 0) is keyed by address.Key of its email: a plan has at most one
// such item per address. An item of an input row with action none is keyed by
// its row ("#12"), because such items may repeat an address (duplicates) or
// carry none that is valid (invalid rows), and must neither collapse into one
// another nor shadow the address's send or cancel item. An item's intent and
// outcome records must therefore carry the same row and action.
func ItemKey(row int, email, action string) string {
	if row > 0 && action != "send" && action != "cancel" {
		return "#" + strconv.Itoa(row)
	}
	if plainKey(email) {
		return email
	}
	if k, err := address.Key(email); err == nil {
		return k
	}
	return email
}

// plainKey reports, cheaply, that address.Key would return s as it is or
// refuse it: s is ASCII without upper-case letters or white space at either
// end. Plans and journals hold millions of such addresses.
func plainKey(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

var (
	// ErrEmpty is returned for an empty file: no journal was ever written
	// there (since Create writes whole, only an older version or another
	// program leaves one). It matches ErrNotJournal too.
	ErrEmpty = fmt.Errorf("empty file: %w", ErrNotJournal)
	// ErrNotJournal is returned for a file that is not a results journal of
	// this version.
	ErrNotJournal = errors.New("not an invitectl results journal")
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("results journal is closed")
)
