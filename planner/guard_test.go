package planner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// A listed INVITED without an updateTime can never be shown to be older
// than --resend-after: it is not re-sent, however long the policy.
// Catches the guard on a missing updateTime dropped from Decide (the zero
// time is centuries old, so every such invitation would be re-sent).
func TestResendNeedsAnUpdateTime(t *testing.T) {
	for _, after := range []time.Duration{time.Nanosecond, time.Hour, 168 * time.Hour, 100 * 365 * 24 * time.Hour} {
		listed := &invitations.Invitation{Email: "a@example.com", State: invitations.StateInvited, MailsSentCount: 1}
		if a, r := Decide(Policy{ResendAfter: Duration(after)}, WantInvite, listed, nil, now); a != ActionNone || r != ReasonAlreadyInvited {
			t.Errorf("--resend-after %v, no updateTime: %s/%s, want none/%s", after, a, r, ReasonAlreadyInvited)
		}
	}
}

// noUpdateTime lists what the API lists, without updateTime for one
// address, as an API that omits the field would.
type noUpdateTime struct {
	Reader
	email string
}

func (n noUpdateTime) List(ctx context.Context, opts invitations.ListOptions, page func([]invitations.Invitation) error) error {
	return n.Reader.List(ctx, opts, func(invs []invitations.Invitation) error {
		for i := range invs {
			if invs[i].Email == n.email {
				invs[i].UpdateTime = time.Time{}
			}
		}
		return page(invs)
	})
}

// The same through Build and the real client: of two invitations sent a
// month ago, the one listed without updateTime stays none/already_invited.
func TestBuildResendWithoutUpdateTime(t *testing.T) {
	items, _, srv, err := plan(t, Policy{Action: WantInvite, ResendAfter: Duration(168 * time.Hour)},
		"email\ninvited-old@example.com\nstray@example.com\n",
		func(r Reader) Reader { return noUpdateTime{Reader: r, email: "stray@example.com"} })
	if err != nil {
		t.Fatal(err)
	}
	// Without the field, stray (listed since January) would be due too.
	if got, want := decisions(items), "2 invited-old@example.com send/resend\n3 stray@example.com none/already_invited\n"; got != want {
		t.Errorf("decisions:\n got %s\nwant %s", got, want)
	}
	if srv.State().Calls["send"] != 0 {
		t.Error("planning sent something")
	}
}

// A listed NOT_YET_SENT is sent only when isInvitableUser said yes, or
// when it was not asked because the listing is trusted: a "no" wins over
// --trust-list, and no answer without it sends nothing.
func TestDecideNeedsAYes(t *testing.T) {
	yes, no := true, false
	nys := &invitations.Invitation{Email: "a@example.com", State: invitations.StateNotYetSent}
	tests := []struct {
		trust     bool
		invitable *bool
		action    Action
	}{
		{false, &yes, ActionSend},
		{false, &no, ActionNone},
		{false, nil, ActionNone},
		{true, nil, ActionSend},
		{true, &no, ActionNone},
		{true, &yes, ActionSend},
	}
	for _, tt := range tests {
		if a, _ := Decide(Policy{TrustList: tt.trust}, WantInvite, nys, tt.invitable, now); a != tt.action {
			t.Errorf("trust list %v, invitable %v: %s, want %s", tt.trust, tt.invitable, a, tt.action)
		}
	}
}

// A plan is written beside its destination (a rename across file systems
// would not be atomic), never in the temporary folder; a dry run's only
// in the temporary folder.
func TestPlanFilesWhereTheyBelong(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	w, err := CreateFile(filepath.Join(dir, "plan.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Dir(w.body.Name()); got != dir {
		t.Errorf("body written in %s, want %s", got, dir)
	}
	if p, err := w.Commit(sampleHeader()); err != nil || p != filepath.Join(dir, "plan.jsonl") {
		t.Fatalf("Commit = %s, %v", p, err)
	}
	_ = w.Close()
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the temporary folder holds %v", entries)
	}

	w, err = CreateFile("")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := filepath.Dir(w.body.Name()); got != tmp {
		t.Errorf("dry-run body written in %s, want %s", got, tmp)
	}
	p, err := w.Commit(sampleHeader())
	if err != nil || filepath.Dir(p) != tmp {
		t.Fatalf("dry-run Commit = %s, %v; want a file in %s", p, err, tmp)
	}
}

func TestPlanErrorText(t *testing.T) {
	if got := (&PlanError{Path: "p.jsonl", Msg: "not a plan"}).Error(); got != "plan p.jsonl: not a plan" {
		t.Errorf("without a line: %q", got)
	}
	if got := (&PlanError{Path: "p.jsonl", Line: 1, Msg: "bad"}).Error(); got != "plan p.jsonl line 1: bad" {
		t.Errorf("line 1: %q", got)
	}
}

// A listing in descending order, or one that lists an address twice in a
// row, is still looked up right: the later listing wins.
func TestIndexDescendingAndRepeated(t *testing.T) {
	x := indexOf([]invitations.Invitation{
		{Email: "c@example.com", State: invitations.StateInvited},
		{Email: "b@example.com", State: invitations.StateAccepted},
		{Email: "a@example.com", State: invitations.StateDeclined},
	})
	for email, want := range map[string]invitations.State{"a@example.com": invitations.StateDeclined, "b@example.com": invitations.StateAccepted, "c@example.com": invitations.StateInvited} {
		e := x.lookup(email)
		if e == nil || x.expand(email, e).State != want {
			t.Errorf("descending: %s not found as %s", email, want)
		}
	}
	x = indexOf([]invitations.Invitation{
		{Email: "a@example.com", State: invitations.StateNotYetSent},
		{Email: "a@example.com", State: invitations.StateInvited, MailsSentCount: 1},
		{Email: "b@example.com", State: invitations.StateNotYetSent},
	})
	if got := x.expand("a@example.com", x.lookup("a@example.com")); len(x.entries) != 2 || got.State != invitations.StateInvited {
		t.Errorf("repeated: %d entries, a is %+v; want 2 entries, a INVITED", len(x.entries), got)
	}
}

// The plan's header counts what the listing held and what the plan does,
// in numbers a person can check against the table of the plan.
func TestHeaderCounts(t *testing.T) {
	_, hdr, _, err := plan(t, Policy{Action: WantCancel, Prune: true}, campaign, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantListed := map[invitations.State]int{invitations.StateNotYetSent: 2, invitations.StateInvited: 3, invitations.StateAccepted: 1, invitations.StateDeclined: 1}
	if fmt.Sprint(hdr.Listed) != fmt.Sprint(wantListed) {
		t.Errorf("listed %v, want %v", hdr.Listed, wantListed)
	}
	s := hdr.Summary
	if s.Send != 0 || s.Cancel != 2 || s.None != 9 || s.Invalid != 1 || s.Reasons["cancel/invited"] != 2 || s.Reasons["none/duplicate"] != 2 {
		t.Errorf("summary %+v", s)
	}
	var sum Summary
	for _, it := range []Item{
		{Action: ActionSend, Reason: ReasonNotYetSent}, {Action: ActionSend, Reason: ReasonNotYetSent},
		{Action: ActionCancel, Reason: ReasonInvited},
		{Action: ActionNone, Reason: ReasonCheckFailed}, {Action: ActionNone, Reason: ReasonCheckRefused}, {Action: ActionNone, Reason: ReasonInvalidRow},
	} {
		sum.Add(it)
	}
	want := Summary{Send: 2, Cancel: 1, None: 3, Invalid: 1, CheckFailed: 1, CheckRefused: 1,
		Reasons: map[string]int{"send/not_yet_sent": 2, "cancel/invited": 1, "none/check_failed": 1, "none/check_refused": 1, "none/invalid_row": 1}}
	if fmt.Sprint(sum) != fmt.Sprint(want) {
		t.Errorf("Add: %+v, want %+v", sum, want)
	}
}
