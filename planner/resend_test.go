package planner

import (
	"context"
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
