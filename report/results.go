package report

import (
	"fmt"

	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/planner"
)

// OutcomePending is how the results show a plan item with no outcome yet:
// no run has taken it up (the run was interrupted, or --limit left it for
// the next one), or its call's fate is still unknown. It is never written
// to a journal.
const OutcomePending = "pending"

// Results is a journal read together with its plan, so that every plan
// item is rendered (those without an outcome as pending) with the input's
// other columns. Without a usable plan it renders what the journal holds.
type Results struct {
	State   *journal.State
	Journal string
	// Warning says why the plan is not used (gone, or changed since the
	// journal was made), "" when it is.
	Warning string
	// PlanHeader is the plan's header when the plan is used (HasPlan).
	PlanHeader planner.Header
	plan       string
}

// Columns names the input's other columns that Item.Columns carries: the
// plan's, none without it.
func (r *Results) Columns() []string { return r.PlanHeader.Columns }

// OpenResults reads the journal at path and checks its plan: the file the
// journal names, with the hash it recorded. A plan that is gone or changed
// is not an error: Warning says so, and the items are the journal's.
func OpenResults(path string) (*Results, error) {
	st, err := journal.Read(path)
	if err != nil {
		return nil, err
	}
	return ResultsOf(st, path), nil
}

// ResultsOf is the results of the journal at path already read into st (as
// apply holds it at its end: see journal.Journal.State), with its plan
// checked as OpenResults does.
func ResultsOf(st *journal.State, path string) *Results {
	r := FromState(st)
	r.Journal = path
	p := st.Header.Plan
	// One pass for the header and the hash: a large plan is read once here.
	hdr, sum, err := planner.Peek(p.Path)
	switch {
	case err != nil:
		r.Warning = fmt.Sprintf("the plan %s cannot be read (%v): the results list the %d item(s) the journal records, not the ones no run has taken up yet", p.Path, err, st.NumFinal())
	case sum != p.SHA256:
		r.Warning = fmt.Sprintf("the plan %s has changed since the journal was made (planned again, or edited): the results list the %d item(s) the journal records, not the ones no run has taken up yet", p.Path, st.NumFinal())
	default:
		r.PlanHeader, r.plan = hdr, p.Path
	}
	return r
}

// FromState is the results of a journal already read, without its plan.
func FromState(st *journal.State) *Results { return &Results{State: st} }

// HasPlan reports whether the items come from the plan (every item, pending
// ones included) rather than from the journal alone.
func (r *Results) HasPlan() bool { return r.plan != "" }

// Each calls fn with every item: with the plan, every plan item in plan
// order, its last outcome or pending, and its columns, streamed from the
// plan file; without it, the journal's items (see Items).
func (r *Results) Each(fn func(Item) error) error {
	if r.plan == "" {
		return Items(r.State, fn)
	}
	pr, err := planner.OpenFile(r.plan)
	if err != nil {
		return err
	}
	defer pr.Close()
	return pr.Each(func(it planner.Item) error {
		k := journal.ItemKey(it.Row, it.Email, string(it.Action))
		var item Item
		if rec, ok := r.State.Final(k); ok {
			item = itemOf(rec)
		} else {
			var intent journal.Record // none: the item was never taken up
			if in, ok := r.State.Pending[k]; ok {
				intent = in.Record()
			}
			item = pendingItem(it, intent, r.Journal)
		}
		item.Columns = it.Columns
		return fn(item)
	})
}

// pendingItem is a plan item no run has finished; intent is the call an
// earlier run left unanswered, if any, and results the journal's path.
func pendingItem(it planner.Item, intent journal.Record, results string) Item {
	p := Item{Row: it.Row, Email: it.Email, Action: string(it.Action), Outcome: OutcomePending, Reason: it.Reason}
	if intent.Type == journal.TypeIntent {
		p.Attempts = intent.Attempt
		p.Detail = "a call may have left and its outcome is not recorded: 'invitectl resume " + results + "' reads it back first"
	} else {
		p.Detail = "not taken up yet: 'invitectl resume " + results + "' continues"
	}
	return p
}

// Summarize accounts for the journal as Summarize does; with the plan, the
// items no run has finished count as pending in ByOutcome.
func (r *Results) Summarize() Summary {
	s := Summarize(r.State)
	s.Journal = r.Journal
	if n := s.Plan.Items - s.Items; r.plan != "" && n > 0 {
		s.ByOutcome[OutcomePending] = n
	}
	return s
}
