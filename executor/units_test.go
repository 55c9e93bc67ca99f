package executor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/planner"
)

func TestStatsSums(t *testing.T) {
	var s Stats
	s.Done.Store(1)
	s.Skipped.Store(20)
	s.Rejected.Store(300)
	s.Failed.Store(4000)
	s.InDoubt.Store(50000)
	s.EarlierProblems.Store(600000)
	if got := s.Finished(); got != 54321 {
		t.Errorf("Finished = %d, want 54321", got)
	}
	if got := s.Problems(); got != 654300 {
		t.Errorf("Problems = %d, want 654300", got)
	}
	for outcome, counts := range map[string]bool{journal.OutcomeDone: false, journal.OutcomeSkipped: false,
		journal.OutcomeRejected: true, journal.OutcomeFailed: true, journal.OutcomeInDoubt: true} {
		var s Stats
		s.countEarlier(outcome)
		if got := s.EarlierProblems.Load() == 1; got != counts {
			t.Errorf("an earlier %s counted as a problem: %v, want %v", outcome, got, counts)
		}
	}
}

// Which earlier outcomes a run takes up again: a failure that provably
// sent nothing always; in_doubt and rejected items only when asked; never
// one that is done or skipped.
func TestRetried(t *testing.T) {
	tests := []struct {
		rec               journal.Record
		inDoubt, rejected bool
		want              bool
	}{
		{journal.Record{Outcome: journal.OutcomeFailed, NotSent: true}, false, false, true},
		{journal.Record{Outcome: journal.OutcomeFailed}, true, true, false},
		{journal.Record{Outcome: journal.OutcomeInDoubt}, false, true, false},
		{journal.Record{Outcome: journal.OutcomeInDoubt}, true, false, true},
		{journal.Record{Outcome: journal.OutcomeRejected}, true, false, false},
		{journal.Record{Outcome: journal.OutcomeRejected}, false, true, true},
		{journal.Record{Outcome: journal.OutcomeDone}, true, true, false},
		{journal.Record{Outcome: journal.OutcomeSkipped, NotSent: true}, true, true, false},
	}
	for _, tt := range tests {
		if got := retried(tt.rec, tt.inDoubt, tt.rejected); got != tt.want {
			t.Errorf("retried(%s, not sent %v, in doubt %v, rejected %v) = %v", tt.rec.Outcome, tt.rec.NotSent, tt.inDoubt, tt.rejected, got)
		}
	}
}

// What the ledger learns of an outcome: only a call that provably did
// nothing frees the address for another source.
func TestEffectOf(t *testing.T) {
	tests := []struct {
		o    outcome
		want ledger.Effect
	}{
		{outcome{kind: journal.OutcomeDone}, ledger.Took},
		{outcome{kind: journal.OutcomeRejected}, ledger.None},
		{outcome{kind: journal.OutcomeSkipped}, ledger.None},
		{outcome{kind: journal.OutcomeFailed, notSent: true}, ledger.None},
		{outcome{kind: journal.OutcomeFailed}, ledger.Unknown},
		{outcome{kind: journal.OutcomeInDoubt}, ledger.Unknown},
	}
	for _, tt := range tests {
		if got := effectOf(tt.o); got != tt.want {
			t.Errorf("effectOf(%+v) = %v, want %v", tt.o, got, tt.want)
		}
	}
}

// When a listing costs as many calls as the gets, the refresh takes the
// gets: they also see accounts the listing of sent invitations leaves out.
func TestRefreshTieGoesToGets(t *testing.T) {
	w := nysWorld(1)
	e := newEnv(t, w, emulator.Config{})
	items := []planner.Item{{Row: 2, Email: "p000@example.com", Action: planner.ActionSend, Observed: &planner.Observed{State: invitations.StateNotYetSent}}}
	ref, err := Refresh(context.Background(), RefreshConfig{Client: e.client, Listed: map[invitations.State]int{invitations.StateNotYetSent: 1}}, ItemList(items))
	if err != nil {
		t.Fatal(err)
	}
	if ref.How != "get" || ref.Calls != 1 || e.srv.State().Calls["list"] != 0 {
		t.Errorf("refreshed by %s with %d calls (%v); want one get", ref.How, ref.Calls, e.srv.State().Calls)
	}
}

// RefreshUpTo with no limit (n = 0, or n at least the items) refreshes every
// item; with a limit, only the first n and as many more as moved.
func TestRefreshUpToLimits(t *testing.T) {
	w := nysWorld(5)
	e := newEnv(t, w, emulator.Config{})
	var items ItemList
	for i, u := range w.Users {
		inv, err := e.client.Get(context.Background(), u.Email)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, planner.Item{Row: i + 2, Email: u.Email, Action: planner.ActionSend,
			Observed: &planner.Observed{State: inv.State, MailsSentCount: inv.MailsSentCount, UpdateTime: inv.UpdateTime}})
	}
	if err := e.srv.Act(w.Users[0].Email, emulator.ActSend); err != nil { // moved: one more is refreshed in its place
		t.Fatal(err)
	}
	for _, tt := range []struct{ n, checked int }{{0, 5}, {-1, 5}, {5, 5}, {9, 5}, {2, 3}} {
		ref, err := RefreshUpTo(context.Background(), RefreshConfig{Client: e.client}, items, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if ref.Checked != tt.checked || len(ref.Moved) != 1 {
			t.Errorf("n=%d: checked %d, moved %v; want %d checked, 1 moved", tt.n, ref.Checked, ref.Moved, tt.checked)
		}
	}
}

// An item the plan did not see listed (Observed nil) has moved only when it
// now shows an invitation that was sent; one planned as listed moves with
// any change of state, mails or updateTime.
func TestMovedFrom(t *testing.T) {
	upd := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	planned := &planner.Observed{State: invitations.StateNotYetSent, UpdateTime: upd}
	tests := []struct {
		obs   *planner.Observed
		now   invitations.Invitation
		moved bool
	}{
		{nil, invitations.Invitation{State: invitations.StateNotYetSent}, false},
		{nil, invitations.Invitation{State: invitations.StateNotYetSent, MailsSentCount: 1}, true},
		{nil, invitations.Invitation{State: invitations.StateInvited, MailsSentCount: 1}, true},
		{nil, invitations.Invitation{State: invitations.StateInvited}, true},
		{planned, invitations.Invitation{State: invitations.StateNotYetSent, UpdateTime: upd}, false},
		{planned, invitations.Invitation{State: invitations.StateInvited, UpdateTime: upd}, true},
		{planned, invitations.Invitation{State: invitations.StateNotYetSent, MailsSentCount: 1, UpdateTime: upd}, true},
		{planned, invitations.Invitation{State: invitations.StateNotYetSent, UpdateTime: upd.Add(time.Second)}, true},
	}
	for i, tt := range tests {
		if _, moved := movedFrom(tt.obs, &tt.now); moved != tt.moved {
			t.Errorf("case %d: moved %v, want %v", i, moved, tt.moved)
		}
	}
}

// A refresh cut short by the end of its context says so (ErrInterrupted:
// nothing was called yet); one that fails otherwise says why.
func TestRefreshInterrupted(t *testing.T) {
	w := nysWorld(2)
	e := newEnv(t, w, emulator.Config{})
	items := ItemList{{Row: 2, Email: w.Users[0].Email, Action: planner.ActionSend}, {Row: 3, Email: w.Users[1].Email, Action: planner.ActionSend}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, listed := range []map[invitations.State]int{nil, {invitations.StateInvited: 1}} {
		if _, err := Refresh(ctx, RefreshConfig{Client: e.client, Listed: listed}, items); !errors.Is(err, ErrInterrupted) {
			t.Errorf("listed %v: %v, want ErrInterrupted", listed, err)
		}
	}
	denied := RefreshConfig{Client: failingLister{e.client}, Listed: map[invitations.State]int{invitations.StateInvited: 1}}
	if _, err := Refresh(context.Background(), denied, items); err == nil || errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "list invitations") {
		t.Errorf("a failed listing: %v, want its error", err)
	}
}

// failingLister is a Reader whose listing is refused.
type failingLister struct{ Reader }

func (failingLister) List(context.Context, invitations.ListOptions, func([]invitations.Invitation) error) error {
	return &invitations.Error{Kind: invitations.KindAuth, Method: "list", HTTPCode: 403, Status: "PERMISSION_DENIED"}
}
