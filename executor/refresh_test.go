package executor

import (
	"context"
	"fmt"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/planner"
)

func TestRefreshCost(t *testing.T) {
	listed := func(invited, accepted, declined int) map[invitations.State]int {
		return map[invitations.State]int{invitations.StateNotYetSent: 1_000_000, invitations.StateInvited: invited,
			invitations.StateAccepted: accepted, invitations.StateDeclined: declined}
	}
	tests := []struct {
		n             int
		listed        map[invitations.State]int
		listing, gets int
	}{
		{20, listed(10_000, 5_000, 1_000), 80, 20}, // a small campaign in a big tenant: gets
		{5_000, listed(100, 50, 50), 1, 5_000},     // NOT_YET_SENT accounts cost nothing to list
		{1, listed(0, 0, 0), 1, 1},                 // an empty listing still costs its one call
		{300, listed(199, 1, 1), 2, 300},           // 201 sent invitations: two pages
		{10, nil, -1, 10},                          // a plan that does not say
	}
	for _, tt := range tests {
		l, g := RefreshCost(tt.n, tt.listed)
		if l != tt.listing || g != tt.gets {
			t.Errorf("RefreshCost(%d, %v) = %d, %d; want %d, %d", tt.n, tt.listed, l, g, tt.listing, tt.gets)
		}
	}
}

// Refresh takes the cheaper way, and both ways find the same moves: an
// invitation sent by someone else, one cancelled, one accepted, and an
// unlisted account that became visible without moving.
func TestRefreshBothWays(t *testing.T) {
	w := emulator.World{Customer: customer}
	for i := range 300 {
		w.Users = append(w.Users, emulator.User{Email: fmt.Sprintf("s%03d@example.com", i), State: "INVITED", Mails: 1})
	}
	w.Users = append(w.Users,
		emulator.User{Email: "a@example.com"}, emulator.User{Email: "b@example.com", State: "INVITED", Mails: 1},
		emulator.User{Email: "c@example.com"}, emulator.User{Email: "d@example.com", Recent: true})
	e := newEnv(t, w, emulator.Config{})
	items := []planner.Item{
		{Row: 2, Email: "a@example.com", Action: planner.ActionSend, Observed: &planner.Observed{State: invitations.StateNotYetSent}},
		{Row: 3, Email: "b@example.com", Action: planner.ActionCancel, Observed: &planner.Observed{State: invitations.StateInvited, MailsSentCount: 1}},
		{Row: 4, Email: "c@example.com", Action: planner.ActionSend, Observed: &planner.Observed{State: invitations.StateNotYetSent}},
		{Row: 5, Email: "d@example.com", Action: planner.ActionSend},
	}
	// Observed as listed now, so only the changes below count as moves.
	for _, it := range items[:3] {
		inv, err := e.client.Get(context.Background(), it.Email)
		if err != nil {
			t.Fatal(err)
		}
		it.Observed.UpdateTime = inv.UpdateTime
	}
	if err := e.srv.Act("a@example.com", emulator.ActSend); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Act("b@example.com", emulator.ActCancel); err != nil {
		t.Fatal(err)
	}
	listed := map[invitations.State]int{invitations.StateInvited: 301}
	for _, big := range []bool{false, true} {
		l := listed
		if big {
			l = map[invitations.State]int{invitations.StateInvited: 100_000}
		}
		ref, err := Refresh(context.Background(), RefreshConfig{Client: e.client, Listed: l}, ItemList(items))
		if err != nil {
			t.Fatal(err)
		}
		wantHow, wantCalls := "list", 2
		if big {
			wantHow, wantCalls = "get", 4
		}
		if ref.How != wantHow || ref.Calls != wantCalls {
			t.Errorf("listed %v: refreshed by %s with %d calls, want %s with %d", l, ref.How, ref.Calls, wantHow, wantCalls)
		}
		if len(ref.Moved) != 2 || ref.Moved["a@example.com"] == "" || ref.Moved["b@example.com"] == "" {
			t.Errorf("by %s: moved %v, want a (sent by someone else) and b (cancelled)", ref.How, ref.Moved)
		}
	}
}

// ItemList is a Batch of items in a slice, for the tests.
type ItemList []planner.Item

func (l ItemList) Len() int                { return len(l) }
func (l ItemList) Item(i int) planner.Item { return l[i] }
func (l ItemList) Email(i int) string      { return l[i].Email }
func (l ItemList) Observed(i int) (planner.Observed, bool) {
	if o := l[i].Observed; o != nil {
		return *o, true
	}
	return planner.Observed{}, false
}
