package planner

import (
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// needsCheck reports whether isInvitableUser must be asked before deciding:
// only for an invite whose listing does not decide it (not listed, or listed
// NOT_YET_SENT without --trust-list).
func needsCheck(p Policy, want Wanted, listed *invitations.Invitation) bool {
	if want != WantInvite && want != WantResend {
		return false
	}
	if listed == nil {
		return true
	}
	return listed.State == invitations.StateNotYetSent && !p.TrustList
}

// Decide applies the decision table of docs/ARCHITECTURE.md. listed is the invitation as
// listed (nil when the listing does not show the address); invitable is the
// isInvitableUser answer (nil when not asked); now dates --resend-after.
// WantResend decides as WantInvite, except that an INVITED or DECLINED
// invitation gets the email the row asks for (send/resend_requested).
// Whatever the reason, no send is planned to an address whose listed
// mailsSentCount has reached p.MaxMails (none/max_mails).
func Decide(p Policy, want Wanted, listed *invitations.Invitation, invitable *bool, now time.Time) (Action, string) {
	a, r := decide(p, want, listed, invitable, now)
	if a == ActionSend && p.MaxMails > 0 && listed != nil && listed.MailsSentCount >= p.MaxMails {
		return ActionNone, ReasonMaxMails
	}
	return a, r
}

func decide(p Policy, want Wanted, listed *invitations.Invitation, invitable *bool, now time.Time) (Action, string) {
	if want == WantCancel {
		if listed == nil {
			return ActionNone, ReasonNotListed
		}
		switch listed.State {
		case invitations.StateInvited:
			return ActionCancel, ReasonInvited
		case invitations.StateAccepted:
			return ActionNone, ReasonAccepted
		case invitations.StateDeclined:
			return ActionNone, ReasonDeclined
		}
		return ActionNone, ReasonNotYetSent
	}
	yes := invitable != nil && *invitable
	if listed == nil {
		if yes {
			return ActionSend, ReasonUnlistedInvitable
		}
		return ActionNone, ReasonNotInvitable
	}
	switch listed.State {
	case invitations.StateNotYetSent:
		if yes || (invitable == nil && p.TrustList) {
			return ActionSend, ReasonNotYetSent
		}
		return ActionNone, ReasonNotInvitable
	case invitations.StateInvited:
		if want == WantResend {
			return ActionSend, ReasonResendRequested
		}
		if p.ResendAfter > 0 && !listed.UpdateTime.IsZero() && now.Sub(listed.UpdateTime) >= time.Duration(p.ResendAfter) {
			return ActionSend, ReasonResend
		}
		return ActionNone, ReasonAlreadyInvited
	case invitations.StateAccepted:
		return ActionNone, ReasonAccepted
	case invitations.StateDeclined:
		if want == WantResend {
			return ActionSend, ReasonResendRequested
		}
		if p.ReinviteDeclined {
			return ActionSend, ReasonReinvite
		}
		return ActionNone, ReasonDeclined
	}
	return ActionNone, ReasonNotInvitable
}
