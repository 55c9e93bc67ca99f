// Package status follows a campaign after its emails left: it reads again
// the current state of every address that one or more results journals
// (waves of one campaign), or the customer's ledger, acted on, with the
// cheapest reads, and renders the funnel (sent, then accepted, declined,
// still invited, not yet sent, gone) and one row per address with the
// campaign's outcome, the state now and the input's other columns.
package status

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/planner"
	"github.com/invitectl/invitectl/report"
)

// The states of an address now, as the funnel counts them.
const (
	Accepted   = "accepted"
	Declined   = "declined"
	Invited    = "invited"
	NotYetSent = "not_yet_sent" // cancelled, reset, or never sent
	// Gone: managed now, or no longer an account: the API no longer shows
	// an invitation it showed (or that a send created long enough ago).
	Gone = "gone"
	// Unknown: not visible yet (an account created in the last 48 hours, an
	// invitation the index has not caught up with), or the read failed.
	Unknown = "unknown"
)

// States lists the states in the funnel's order.
var States = []string{Accepted, Declined, Invited, NotYetSent, Gone, Unknown}

// Explain says what a state means, for the funnel and the README.
func Explain(state string) string {
	switch state {
	case Accepted:
		return "accepted: the account is managed now"
	case Declined:
		return "declined the invitation"
	case Invited:
		return "invited, no answer yet"
	case NotYetSent:
		return "no invitation pending: cancelled, or not sent yet"
	case Gone:
		return "managed now, renamed or deleted: the API no longer shows it"
	case Unknown:
		return "not visible yet (new accounts lag up to 48 hours), or the read failed"
	}
	return ""
}

// entry is one address the campaign acted on, without its columns: they
// stay in the plan files until the rows are written.
type entry struct {
	email   string
	source  int // index into Campaign.sources
	row     int
	action  string
	outcome string
	reason  string
	at      time.Time // when the outcome was recorded (or the ledger's call)
	// listed says that the invitation was listed when planning (or is
	// assumed to have been): its absence now means gone.
	listed bool

	state   string
	mails   int64
	updated time.Time
	note    string
}

// sent says whether the campaign's send took effect for the entry.
func (e *entry) sent() bool {
	return e.action == string(planner.ActionSend) && e.outcome == journal.OutcomeDone
}

// rank orders the outcomes of one address across waves: a call that took
// effect says most, then a recorded problem, then a skip, then nothing.
func rank(outcome string) int {
	switch outcome {
	case journal.OutcomeDone:
		return 3
	case journal.OutcomeInDoubt, journal.OutcomeFailed, journal.OutcomeRejected:
		return 2
	case journal.OutcomeSkipped:
		return 1
	}
	return 0
}

// source is one results journal, or the ledger.
type source struct {
	name    string
	results *report.Results // nil for the ledger
}

// Campaign is the addresses that one or more journals (or the ledger)
// acted on.
type Campaign struct {
	sources []source
	entries []*entry
	byEmail map[string]*entry
	// Columns names the input's other columns, over every wave's plan.
	Columns []string
	// Listed is the newest plan's count of listed invitations by state,
	// which sizes the reads; nil for the ledger.
	Listed map[invitations.State]int
	// Warnings are for the administrator: plans gone or changed.
	Warnings []string
	// Customer and APIVersion are the journals' (every journal must be of
	// one customer); empty for the ledger.
	Customer, APIVersion string
	reads                Reads
	now                  time.Time
}

// FromJournals gathers the send and cancel items of the journals' plans
// (pending ones included): per address, the outcome that says most (a call
// that took effect, then a problem, then a skip, then pending), the later
// one between equals.
func FromJournals(paths []string) (*Campaign, error) {
	c := &Campaign{byEmail: map[string]*entry{}}
	var newest time.Time
	for i, path := range paths {
		res, err := report.OpenResults(path)
		if err != nil {
			return nil, err
		}
		h := res.State.Header
		switch {
		case c.Customer == "":
			c.Customer, c.APIVersion = h.Customer, h.APIVersion
		case h.Customer != c.Customer:
			return nil, fmt.Errorf("%s records customer %s, and %s customer %s: give the journals of one customer", path, h.Customer, paths[0], c.Customer)
		}
		if res.Warning != "" {
			c.Warnings = append(c.Warnings, res.Warning)
		}
		c.sources = append(c.sources, source{name: path, results: res})
		for _, col := range res.Columns() {
			if !slices.Contains(c.Columns, col) {
				c.Columns = append(c.Columns, col)
			}
		}
		if h := res.PlanHeader; res.HasPlan() && h.Listed != nil && !h.CreatedAt.Before(newest) {
			c.Listed, newest = h.Listed, h.CreatedAt
		}
		err = res.Each(func(it report.Item) error {
			if it.Action != string(planner.ActionSend) && it.Action != string(planner.ActionCancel) {
				return nil
			}
			e := &entry{email: it.Email, source: i, row: it.Row, action: it.Action, outcome: it.Outcome, reason: it.Reason,
				at: it.FinishedAt, listed: it.Reason != planner.ReasonUnlistedInvitable}
			c.add(e)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return c, nil
}

// add keeps the entry that says most about its address.
func (c *Campaign) add(e *entry) {
	old, ok := c.byEmail[e.email]
	if !ok {
		c.byEmail[e.email] = e
		c.entries = append(c.entries, e)
		return
	}
	if r, ro := rank(e.outcome), rank(old.outcome); r > ro || r == ro && !e.at.Before(old.at) {
		*old = *e
	}
}

// FromLedger gathers every address the customer's ledger knows, with its
// latest call: took effect is done, unknown in_doubt, an open intent
// pending. Whether the address was listed is not known, so absent means
// gone only once the call is older than the lag window.
func FromLedger(l *ledger.Ledger) (*Campaign, error) {
	c := &Campaign{byEmail: map[string]*entry{}, sources: []source{{name: "the ledger " + l.Path()}}}
	err := l.Each(func(call ledger.Call) error {
		outcome := report.OutcomePending
		switch call.Effect {
		case ledger.Took:
			outcome = journal.OutcomeDone
		case ledger.Unknown:
			outcome = journal.OutcomeInDoubt
		}
		c.add(&entry{email: call.Email, action: call.Action.String(), outcome: outcome, at: call.At, note: "by " + call.Source.Describe()})
		return nil
	})
	return c, err
}

// Len is the number of addresses.
func (c *Campaign) Len() int { return len(c.entries) }

// Names lists the sources, for a title.
func (c *Campaign) Names() string {
	names := make([]string, len(c.sources))
	for i, s := range c.sources {
		names[i] = s.name
		if s.results != nil {
			names[i] = filepath.Base(s.name)
		}
	}
	return strings.Join(names, ", ")
}
