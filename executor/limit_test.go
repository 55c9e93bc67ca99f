package executor

import (
	"fmt"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/planner"
)

// TestLimitAcrossRuns: each run takes up at most Limit send items, in plan
// order; items with nothing to do and items moved since the plan do not
// count; what is left has no outcome until a later run takes it up; nobody
// is emailed twice.
func TestLimitAcrossRuns(t *testing.T) {
	w := emulator.World{Customer: customer}
	for i := range 25 {
		w.Users = append(w.Users, emulator.User{Email: fmt.Sprintf("u%02d@example.com", i)})
	}
	w.Users = append(w.Users, emulator.User{Email: "accepted@example.com", State: "ACCEPTED", Mails: 1})
	e := newEnv(t, w, emulator.Config{})
	e.makePlan(campaign(w), planner.Policy{Action: planner.WantInvite})
	sends := e.planned()[planner.ActionSend]
	if len(sends) != 25 {
		t.Fatalf("%d sends planned", len(sends))
	}
	// Someone else invites u02 after the plan: skipped, and u10 is taken
	// up in its place.
	if err := e.srv.Act("u02@example.com", emulator.ActSend); err != nil {
		t.Fatal(err)
	}
	var ref Refreshed
	stats, err := e.apply(applyOpts{limit: 10, refreshed: &ref})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.State().Calls["send"]; got != 10 || stats.Done.Load() != 10 || stats.Deferred.Load() != 14 || stats.Moved.Load() != 1 {
		t.Fatalf("run 1: %d sends, done %d, deferred %d, moved %d; want 10, 10, 14, 1", got, stats.Done.Load(), stats.Deferred.Load(), stats.Moved.Load())
	}
	// The first ten cost one listing (nothing else is sent yet); the one
	// taken up in place of u02, one get.
	if ref.Checked != 11 || ref.Calls != 2 || ref.How != "list and get" {
		t.Errorf("run 1 refreshed %d items with %d calls (%s); want the first 10 by one listing and one more by a get", ref.Checked, ref.Calls, ref.How)
	}
	outs := e.outcomes()
	for i, it := range sends {
		o, ok := outs[it.Email]
		switch {
		case i == 2:
			if o.Outcome != journal.OutcomeSkipped || o.Reason != planner.ReasonChangedSincePlan {
				t.Errorf("%s: %+v, want skipped/changed_since_plan", it.Email, o)
			}
		case i <= 10:
			if o.Outcome != journal.OutcomeDone {
				t.Errorf("%s (item %d): %+v, want done", it.Email, i, o)
			}
		case ok:
			t.Errorf("%s (item %d) has outcome %s; it must be left for the next run", it.Email, i, o.Outcome)
		}
	}

	stats, err = e.apply(applyOpts{limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.State().Calls["send"]; got != 20 || stats.Deferred.Load() != 4 {
		t.Fatalf("run 2: %d sends in all, deferred %d; want 20, 4", got, stats.Deferred.Load())
	}
	stats, err = e.apply(applyOpts{limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.State().Calls["send"]; got != 24 || stats.Deferred.Load() != 0 || stats.Done.Load() != 4 {
		t.Fatalf("run 3: %d sends in all, deferred %d, done %d; want 24, 0, 4", got, stats.Deferred.Load(), stats.Done.Load())
	}
	for _, a := range e.srv.State().Accounts {
		if a.Mails > 1 {
			t.Errorf("%s got %d emails", a.Email, a.Mails)
		}
		if a.State != string(invitations.StateInvited) && a.Email != "accepted@example.com" {
			t.Errorf("%s is %s after three runs", a.Email, a.State)
		}
	}
}
