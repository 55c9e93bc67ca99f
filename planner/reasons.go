package planner

// ReasonText is one reason code and its explanation in plain words.
type ReasonText struct {
	Code string
	// Actions are the plan actions (or, for the reasons apply decides,
	// "skipped") that the code comes with.
	Actions string
	Text    string
}

// Reasons explains every reason code a plan or a run gives, one line each,
// in the order a campaign meets them. The plan's legend, report's legend
// and the README's table all come from here (a test holds the README to it).
var Reasons = []ReasonText{
	{ReasonNotYetSent, "send; none", "no invitation sent yet: invite it (for a cancel: nothing to cancel)"},
	{ReasonUnlistedInvitable, "send", "not listed yet (a new account, or the index lags) but invitable: invite it"},
	{ReasonNotInvitable, "none", "cannot be invited: managed already, no Google account, alias or family"},
	{ReasonAlreadyInvited, "none", "invited already and not due for a reminder (see --resend-after)"},
	{ReasonResend, "send", "invited, last email older than --resend-after: send a reminder"},
	{ReasonResendRequested, "send", "the console export asks to send again ((Re) Send transfer requests = Yes)"},
	{ReasonMaxMails, "none", "has had --max-mails emails already: no more are sent"},
	{ReasonAccepted, "none", "accepted: the account is managed now, nothing to do"},
	{ReasonDeclined, "none", "declined: not asked again unless --reinvite-declined"},
	{ReasonReinvite, "send", "declined, and --reinvite-declined asks again"},
	{ReasonInvited, "cancel", "a sent invitation the input asks to cancel"},
	{ReasonNotListed, "none", "asked to cancel, but the API lists no invitation for it"},
	{ReasonNotInInput, "cancel", "a sent invitation the input does not name: --prune cancels it"},
	{ReasonCheckFailed, "none", "isInvitableUser kept failing (network, quota, 5xx): plan again to retry"},
	{ReasonCheckRefused, "none", "the API refused the check for this address alone (400, 403, 404): see why"},
	{ReasonRecentlySent, "none", "invitectl emailed it within --lag-window (the API may not show it yet)"},
	{ReasonRecentlyCancelled, "none", "invitectl cancelled it within --lag-window; the API does not show it yet"},
	{ReasonInFlight, "none; skipped", "another invitectl run has a call for it with no outcome yet: resume that run"},
	{ReasonInvalidEmail, "none", "not a valid address (the detail says why)"},
	{ReasonInvalidRow, "none", "the row cannot be read: a bad action cell, Yes in both console columns"},
	{ReasonDuplicate, "none", "the address is on an earlier row, which is the one acted on"},
	{ReasonNoAction, "none", "the console export says No in both columns"},
	{ReasonAlreadySent, "skipped", "another run or command acted on it after the plan was made: not sent again"},
	{ReasonChangedSincePlan, "skipped", "the invitation changed between plan and apply (someone acted): plan again"},
}

// Explain is the one-line explanation of a reason code, "" for an unknown
// one.
func Explain(code string) string {
	for _, r := range Reasons {
		if r.Code == code {
			return r.Text
		}
	}
	return ""
}
