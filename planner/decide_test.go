package planner

import (
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	yes, no := true, false
	inv := func(st invitations.State, age time.Duration) *invitations.Invitation {
		return &invitations.Invitation{Email: "a@example.com", State: st, UpdateTime: now.Add(-age)}
	}
	week := Duration(168 * time.Hour)
	mails := func(i *invitations.Invitation, n int64) *invitations.Invitation {
		i.MailsSentCount = n
		return i
	}
	cap3 := Policy{MaxMails: 3}
	cases := []struct {
		name      string
		policy    Policy
		want      Wanted
		listed    *invitations.Invitation
		invitable *bool
		action    Action
		reason    string
		check     bool
	}{
		// invite: the decision table row by row.
		{"unlisted invitable", Policy{}, WantInvite, nil, &yes, ActionSend, ReasonUnlistedInvitable, true},
		{"unlisted not invitable", Policy{}, WantInvite, nil, &no, ActionNone, ReasonNotInvitable, true},
		{"nys invitable", Policy{}, WantInvite, inv(invitations.StateNotYetSent, 0), &yes, ActionSend, ReasonNotYetSent, true},
		{"nys not invitable", Policy{}, WantInvite, inv(invitations.StateNotYetSent, 0), &no, ActionNone, ReasonNotInvitable, true},
		{"invited", Policy{}, WantInvite, inv(invitations.StateInvited, 30*24*time.Hour), nil, ActionNone, ReasonAlreadyInvited, false},
		{"accepted", Policy{}, WantInvite, inv(invitations.StateAccepted, 0), nil, ActionNone, ReasonAccepted, false},
		{"declined", Policy{}, WantInvite, inv(invitations.StateDeclined, 0), nil, ActionNone, ReasonDeclined, false},
		// policies.
		{"resend old", Policy{ResendAfter: week}, WantInvite, inv(invitations.StateInvited, 169*time.Hour), nil, ActionSend, ReasonResend, false},
		{"resend exactly due", Policy{ResendAfter: week}, WantInvite, inv(invitations.StateInvited, 168*time.Hour), nil, ActionSend, ReasonResend, false},
		{"resend too recent", Policy{ResendAfter: week}, WantInvite, inv(invitations.StateInvited, 167*time.Hour), nil, ActionNone, ReasonAlreadyInvited, false},
		{"reinvite declined", Policy{ReinviteDeclined: true}, WantInvite, inv(invitations.StateDeclined, 0), nil, ActionSend, ReasonReinvite, false},
		{"reinvite leaves accepted", Policy{ReinviteDeclined: true}, WantInvite, inv(invitations.StateAccepted, 0), nil, ActionNone, ReasonAccepted, false},
		{"trust list nys", Policy{TrustList: true}, WantInvite, inv(invitations.StateNotYetSent, 0), nil, ActionSend, ReasonNotYetSent, false},
		{"trust list still checks unlisted", Policy{TrustList: true}, WantInvite, nil, &no, ActionNone, ReasonNotInvitable, true},
		// cancel.
		{"cancel invited", Policy{}, WantCancel, inv(invitations.StateInvited, 0), nil, ActionCancel, ReasonInvited, false},
		{"cancel nys", Policy{}, WantCancel, inv(invitations.StateNotYetSent, 0), nil, ActionNone, ReasonNotYetSent, false},
		{"cancel accepted", Policy{}, WantCancel, inv(invitations.StateAccepted, 0), nil, ActionNone, ReasonAccepted, false},
		{"cancel declined", Policy{}, WantCancel, inv(invitations.StateDeclined, 0), nil, ActionNone, ReasonDeclined, false},
		{"cancel unlisted", Policy{}, WantCancel, nil, nil, ActionNone, ReasonNotListed, false},
		// the console's explicit (re)send.
		{"resend requested invited", Policy{}, WantResend, inv(invitations.StateInvited, time.Hour), nil, ActionSend, ReasonResendRequested, false},
		{"resend requested declined", Policy{}, WantResend, inv(invitations.StateDeclined, 0), nil, ActionSend, ReasonResendRequested, false},
		{"resend requested nys", Policy{}, WantResend, inv(invitations.StateNotYetSent, 0), &yes, ActionSend, ReasonNotYetSent, true},
		{"resend requested unlisted", Policy{}, WantResend, nil, &yes, ActionSend, ReasonUnlistedInvitable, true},
		{"resend requested accepted", Policy{}, WantResend, inv(invitations.StateAccepted, 0), nil, ActionNone, ReasonAccepted, false},
		// --max-mails caps every kind of send.
		{"cap resend", Policy{ResendAfter: week, MaxMails: 3}, WantInvite, mails(inv(invitations.StateInvited, 30*24*time.Hour), 3), nil, ActionNone, ReasonMaxMails, false},
		{"cap resend below", Policy{ResendAfter: week, MaxMails: 3}, WantInvite, mails(inv(invitations.StateInvited, 30*24*time.Hour), 2), nil, ActionSend, ReasonResend, false},
		{"cap reinvite", Policy{ReinviteDeclined: true, MaxMails: 1}, WantInvite, mails(inv(invitations.StateDeclined, 0), 1), nil, ActionNone, ReasonMaxMails, false},
		{"cap resend requested", cap3, WantResend, mails(inv(invitations.StateInvited, 0), 4), nil, ActionNone, ReasonMaxMails, false},
		{"cap cancelled nys", cap3, WantInvite, mails(inv(invitations.StateNotYetSent, 0), 3), &yes, ActionNone, ReasonMaxMails, true},
		{"cap unlisted has no count", cap3, WantInvite, nil, &yes, ActionSend, ReasonUnlistedInvitable, true},
		{"cap leaves a cancel", cap3, WantCancel, mails(inv(invitations.StateInvited, 0), 9), nil, ActionCancel, ReasonInvited, false},
		{"cap leaves already invited", cap3, WantInvite, mails(inv(invitations.StateInvited, 0), 9), nil, ActionNone, ReasonAlreadyInvited, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := needsCheck(tc.policy, tc.want, tc.listed); got != tc.check {
				t.Errorf("needsCheck = %v, want %v", got, tc.check)
			}
			a, r := Decide(tc.policy, tc.want, tc.listed, tc.invitable, now)
			if a != tc.action || r != tc.reason {
				t.Errorf("Decide = %s/%s, want %s/%s", a, r, tc.action, tc.reason)
			}
		})
	}
}
