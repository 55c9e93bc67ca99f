package planner

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

func indexOf(pages ...[]invitations.Invitation) *index {
	x := newIndex()
	for _, p := range pages {
		for _, inv := range p {
			x.add(inv)
		}
	}
	x.finish()
	return x
}

// The index must give back exactly what was listed, whatever it was.
func TestIndexGivesBackWhatWasListed(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	long := strings.Repeat("x", 70_000) + "@example.com"
	page := []invitations.Invitation{
		{Email: "a@example.com", State: invitations.StateNotYetSent},
		{Email: "b@example.com", State: invitations.StateInvited, MailsSentCount: 3, UpdateTime: time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)},
		{Email: "c@example.com", State: invitations.StateAccepted, MailsSentCount: 1, UpdateTime: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Email: "d@example.com", State: invitations.StateDeclined, MailsSentCount: -1, UpdateTime: time.Date(1969, 7, 20, 20, 17, 40, 5, time.UTC)},
		{Email: "e@example.com", State: "STATE_FROM_THE_FUTURE", UpdateTime: time.Date(2026, 1, 1, 0, 0, 0, 0, cet)},
		{Email: "f@example.com", State: "", UpdateTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.Local)},
		{Email: long, State: invitations.StateInvited},
		{Email: "", State: invitations.StateInvited},
	}
	for name, x := range map[string]*index{
		"in order":     indexOf(page[:3], page[3:]),
		"out of order": indexOf(page[5:], page[:2], page[2:5]),
	} {
		for _, want := range page {
			e := x.lookup(want.Email)
			if e == nil {
				t.Fatalf("%s: %.20s not indexed", name, want.Email)
			}
			if got := x.expand(want.Email, e); got != want || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: got %.80v, want %.80v", name, got, want)
			}
		}
		for _, email := range []string{"nobody@example.com", "a@example.co", "a@example.comm", "zzz"} {
			if x.lookup(email) != nil {
				t.Errorf("%s: found %s, which was not listed", name, email)
			}
		}
	}
	// What the adapter lists (UTC times, the API's states) is held compactly.
	x := indexOf(page)
	for _, inv := range page[:4] {
		if e := x.lookup(inv.Email); e.flags&entryWhole != 0 {
			t.Errorf("%s kept whole", inv.Email)
		}
	}
}

func TestIndexLaterListingWins(t *testing.T) {
	x := indexOf([]invitations.Invitation{
		{Email: "b@example.com", State: invitations.StateNotYetSent},
		{Email: "a@example.com", State: invitations.StateNotYetSent},
		{Email: "b@example.com", State: invitations.StateInvited, MailsSentCount: 1},
		{Email: "a@example.com", State: "ODD", UpdateTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 60))},
		{Email: "a@example.com", State: invitations.StateAccepted},
	})
	if len(x.entries) != 2 {
		t.Fatalf("%d entries, want 2", len(x.entries))
	}
	if got := x.expand("a@example.com", x.lookup("a@example.com")); got.State != invitations.StateAccepted {
		t.Errorf("a: %+v", got)
	}
	if got := x.expand("b@example.com", x.lookup("b@example.com")); got.State != invitations.StateInvited || got.MailsSentCount != 1 {
		t.Errorf("b: %+v", got)
	}
}

func TestIndexManyUnknownStates(t *testing.T) {
	var page []invitations.Invitation
	for i := range 300 {
		page = append(page, invitations.Invitation{Email: fmt.Sprintf("u%03d@example.com", i), State: invitations.State(fmt.Sprintf("S%d", i))})
	}
	x := indexOf(page)
	for _, want := range page {
		if got := x.expand(want.Email, x.lookup(want.Email)); got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	var invited []string
	x.each("S7", func(email string, _ *entry) { invited = append(invited, email) })
	if fmt.Sprint(invited) != "[u007@example.com]" {
		t.Errorf("each: %v", invited)
	}
}

func TestIndexLookupDoesNotAllocate(t *testing.T) {
	var page []invitations.Invitation
	for i := range 1000 {
		page = append(page, invitations.Invitation{Email: fmt.Sprintf("u%04d@example.com", i), State: invitations.StateNotYetSent})
	}
	x := indexOf(page)
	if n := testing.AllocsPerRun(100, func() { x.lookup("u0500@example.com") }); n != 0 {
		t.Errorf("lookup allocates %.0f times", n)
	}
}
