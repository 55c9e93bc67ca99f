// Package invitations is the port to the Cloud Identity User Invitation API:
// a small Client interface with domain types, an adapter over the generated
// google.golang.org/api client, and the classification of its errors. No other
// package imports the generated client.
package invitations

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/address"
)

// State is the state of a user invitation as the API reports it.
type State string

// The states of an invitation. Every unmanaged account is NOT_YET_SENT until
// someone sends it an invitation.
const (
	StateNotYetSent State = "NOT_YET_SENT"
	StateInvited    State = "INVITED"
	StateAccepted   State = "ACCEPTED"
	StateDeclined   State = "DECLINED"
)

// States lists every state in the API's order.
var States = []State{StateNotYetSent, StateInvited, StateAccepted, StateDeclined}

// ParseState accepts a state name in any case ("invited", "NOT_YET_SENT").
func ParseState(s string) (State, error) {
	u := State(strings.ToUpper(strings.TrimSpace(s)))
	for _, st := range States {
		if u == st {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown invitation state %q (want one of not_yet_sent, invited, accepted, declined)", s)
}

// Invitation is the API's UserInvitation reduced to what campaigns use.
type Invitation struct {
	Email          string    `json:"email"`
	State          State     `json:"state"`
	MailsSentCount int64     `json:"mailsSentCount"`
	UpdateTime     time.Time `json:"updateTime"`
}

// Order is the list order: a field and a direction.
type Order struct {
	Field string // "email" or "update_time"
	Desc  bool
}

// ParseOrder reads "email", "update_time:desc", "update_time desc" or "updateTime asc".
func ParseOrder(s string) (Order, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Order{Field: "email"}, nil
	}
	field, dir, _ := strings.Cut(strings.ReplaceAll(s, ":", " "), " ")
	o := Order{}
	switch strings.ToLower(strings.TrimSpace(field)) {
	case "email":
		o.Field = "email"
	case "update_time", "updatetime":
		o.Field = "update_time"
	default:
		return Order{}, fmt.Errorf("unknown order field %q (want email or update_time)", field)
	}
	switch strings.ToLower(strings.TrimSpace(dir)) {
	case "", "asc":
	case "desc":
		o.Desc = true
	default:
		return Order{}, fmt.Errorf("unknown order direction %q (want asc or desc)", dir)
	}
	return o, nil
}

func (o Order) String() string {
	if o.Field == "" {
		return ""
	}
	if o.Desc {
		return o.Field + " desc"
	}
	return o.Field + " asc"
}

// ListOptions narrows and orders a listing. The zero value lists every state
// in email order with the largest page the API allows.
type ListOptions struct {
	States   []State
	Order    Order
	PageSize int
	// Pace, when set, runs each page's call (rate limiting, retries), so a
	// failure is retried for that page, not for the whole listing.
	Pace func(ctx context.Context, call func(context.Context) error) error
}

// MaxPageSize is the largest page the API returns.
const MaxPageSize = 200

// Filter renders the states as the API's filter expression.
func (o ListOptions) Filter() string {
	terms := make([]string, len(o.States))
	for i, s := range o.States {
		terms[i] = fmt.Sprintf("state=='%s'", strings.ToLower(string(s)))
	}
	return strings.Join(terms, " || ")
}

// Result is what a send or cancel returned: the operation's name and, when
// the operation carried it, the invitation as it is now.
type Result struct {
	Operation  string      `json:"operation,omitempty"`
	Invitation *Invitation `json:"invitation,omitempty"`
}

// Client is the whole API surface invitectl uses. Consumers declare the
// subset they call.
type Client interface {
	IsInvitable(ctx context.Context, email string) (bool, error)
	Get(ctx context.Context, email string) (Invitation, error)
	List(ctx context.Context, opts ListOptions, page func([]Invitation) error) error
	Send(ctx context.Context, email string) (Result, error)
	Cancel(ctx context.Context, email string) (Result, error)
}

var customerRE = regexp.MustCompile(`^C[A-Za-z0-9]+$`)

// ValidateCustomer checks the shape of a customer ID such as C03abc123.
func ValidateCustomer(id string) error {
	if id == "" {
		return fmt.Errorf("no customer ID: pass --customer or set INVITECTL_CUSTOMER (Admin console > Account > Account settings > Customer ID)")
	}
	if !customerRE.MatchString(id) {
		return fmt.Errorf("customer ID %q is malformed: it starts with C followed by letters and digits, like C03abc123", id)
	}
	return nil
}

// NormalizeEmail returns the address as it goes into a resource name, or an
// error saying why it cannot.
func NormalizeEmail(email string) (string, error) {
	e, err := address.Key(email)
	if err != nil {
		return "", fmt.Errorf("invalid address: %w", err)
	}
	return e, nil
}
