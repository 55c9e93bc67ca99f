// Package planner turns a campaign's targets into a plan: it lists the
// customer's invitations once, asks isInvitableUser concurrently where the
// listing cannot decide, applies the decision table of docs/ARCHITECTURE.md,
// consults the customer's ledger, and writes the plan file that apply
// executes.
package planner

import (
	"time"

	"github.com/invitectl/invitectl/pkg/duration"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

// Plan file identity; apply refuses anything else.
const (
	Kind    = "invitectl/plan"
	Version = 1
)

// Action is what apply will do for an item.
type Action string

// The actions of a plan.
const (
	ActionSend   Action = "send"
	ActionCancel Action = "cancel"
	ActionNone   Action = "none"
)

// Reasons of the decision table, and of rows the planner could not decide.
const (
	ReasonUnlistedInvitable = "unlisted_invitable"
	ReasonNotYetSent        = "not_yet_sent"
	ReasonNotInvitable      = "not_invitable"
	ReasonAlreadyInvited    = "already_invited"
	ReasonResend            = "resend"
	// ReasonResendRequested: the row itself asks for another email (the
	// Admin console export's "(Re) Send transfer requests" = Yes).
	ReasonResendRequested = "resend_requested"
	// ReasonMaxMails: the address has had Policy.MaxMails emails already.
	ReasonMaxMails     = "max_mails"
	ReasonAccepted     = "accepted"
	ReasonDeclined     = "declined"
	ReasonReinvite     = "reinvite"
	ReasonInvited      = "invited"
	ReasonNotListed    = "not_listed"
	ReasonNotInInput   = "not_in_input"
	ReasonCheckFailed  = "check_failed"
	ReasonCheckRefused = "check_refused"
	// Reasons that come from the ledger: invitectl itself acted on the
	// address lately (the API may not show it yet) or still is.
	ReasonRecentlySent      = "recently_sent"
	ReasonRecentlyCancelled = "recently_cancelled"
	ReasonInFlight          = "in_flight"
	// The input's own reasons, decided by the reader (pkg/source).
	ReasonInvalidEmail = source.ReasonInvalidEmail
	ReasonInvalidRow   = source.ReasonInvalidRow
	ReasonDuplicate    = source.ReasonDuplicate
	ReasonNoAction     = source.ReasonNoAction
)

// Reasons of a skipped outcome that apply decides: another journal or
// command acted on the address after the plan was made, or the invitation
// moved since the plan (the refresh before the first call saw it).
const (
	ReasonAlreadySent      = "already_sent"
	ReasonChangedSincePlan = "changed_since_plan"
)

// Wanted is what a row asks for.
type Wanted string

// The wanted actions of a campaign.
const (
	WantInvite Wanted = "invite"
	WantCancel Wanted = "cancel"
	// WantResend is a row's own request for an email, even to an address
	// invited or declined already; only rows ask for it, never a policy.
	WantResend Wanted = "resend"
)

// Policy is how the campaign decides; it is recorded in the plan.
type Policy struct {
	Action Wanted `json:"action"`
	// ResendAfter re-sends INVITED invitations not updated for this long;
	// zero never re-sends.
	ResendAfter      Duration `json:"resendAfter,omitempty"`
	ReinviteDeclined bool     `json:"reinviteDeclined"`
	Prune            bool     `json:"prune"`
	TrustList        bool     `json:"trustList"`
	// MaxMails, when positive, plans no send to an address whose
	// mailsSentCount is already at least this (none/max_mails).
	MaxMails int64 `json:"maxMails,omitempty"`
}

// Duration is a time.Duration written as "168h0m0s".
type Duration time.Duration

// MarshalText writes the duration in Go syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads the duration in Go syntax, or in days ("7d"), as
// every duration flag does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := duration.Parse(string(b))
	*d = Duration(v)
	return err
}

// Header is the plan file's first line.
type Header struct {
	Kind       string    `json:"kind"`
	Version    int       `json:"version"`
	Customer   string    `json:"customer"`
	APIVersion string    `json:"apiVersion"`
	CreatedAt  time.Time `json:"createdAt"`
	Source     Source    `json:"source"`
	Policy     Policy    `json:"policy"`
	Summary    Summary   `json:"summary"`
	// Listed counts the listed invitations by state when planning; apply
	// sizes its refresh from it (a listing costs one call per 200). It is
	// absent when the listing stopped early (ListingStopped invitations
	// listed), the rest being read one address at a time.
	Listed         map[invitations.State]int `json:"listed,omitempty"`
	ListingStopped int                       `json:"listingStopped,omitempty"`
	// LagWindow is how far back the ledger was consulted.
	LagWindow Duration `json:"lagWindow,omitempty"`
	// Pace is what planning learned of the API's quota: apply starts from it.
	Pace *pace.State `json:"pace,omitempty"`
	// Columns names the input's other columns (a name, a team) that items
	// carry in Item.Columns, in the input's order.
	Columns []string `json:"columns,omitempty"`
}

// Source identifies the input the plan was computed from.
type Source struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	Format string `json:"format,omitempty"`
}

// Summary counts the items.
type Summary struct {
	Send         int            `json:"send"`
	Cancel       int            `json:"cancel"`
	None         int            `json:"none"`
	Invalid      int            `json:"invalid"`
	CheckFailed  int            `json:"checkFailed"`
	CheckRefused int            `json:"checkRefused,omitempty"`
	Reasons      map[string]int `json:"reasons"`
}

// Add counts one item.
func (s *Summary) Add(it Item) { s.addN(it, 1) }

// addN counts n items with the action and reason of it.
func (s *Summary) addN(it Item, n int) {
	switch it.Action {
	case ActionSend:
		s.Send += n
	case ActionCancel:
		s.Cancel += n
	default:
		s.None += n
	}
	switch it.Reason {
	case ReasonInvalidEmail, ReasonInvalidRow:
		s.Invalid += n
	case ReasonCheckFailed:
		s.CheckFailed += n
	case ReasonCheckRefused:
		s.CheckRefused += n
	}
	if s.Reasons == nil {
		s.Reasons = map[string]int{}
	}
	s.Reasons[string(it.Action)+"/"+it.Reason] += n
}

// Item is one line of the plan after the header: an input row or a pruned
// invitation.
type Item struct {
	// Row is the input row (the line where it starts); 0 for items that the
	// input does not name (pruned invitations).
	Row      int       `json:"row"`
	Email    string    `json:"email"`
	Action   Action    `json:"action"`
	Reason   string    `json:"reason"`
	Observed *Observed `json:"observed"`
	// Invitable is the isInvitableUser answer, null when it was not asked.
	Invitable *bool  `json:"invitable"`
	Error     string `json:"error,omitempty"`
	Detail    string `json:"detail,omitempty"`
	FirstRow  int    `json:"firstRow,omitempty"`
	// Columns are the row's other cells, carried to the results.
	Columns Columns `json:"columns,omitempty"`
}

// Observed is the invitation as the listing showed it when planning; apply
// compares against it to tell whether an ambiguous call took effect.
type Observed struct {
	State          invitations.State `json:"state"`
	MailsSentCount int64             `json:"mailsSentCount"`
	UpdateTime     time.Time         `json:"updateTime"`
}

func observe(inv *invitations.Invitation) *Observed {
	if inv == nil {
		return nil
	}
	return &Observed{State: inv.State, MailsSentCount: inv.MailsSentCount, UpdateTime: inv.UpdateTime}
}
