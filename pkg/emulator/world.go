package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/duration"
)

// World is the emulator's starting state, as read from a world file.
type World struct {
	Customer string `json:"customer"`
	// Admins are the customer's administrators: with Auth.Require, API
	// calls must act as one of them.
	Admins []string `json:"admins,omitempty"`
	Users  []User   `json:"users"`
	// Sheets are spreadsheets served by the Sheets values endpoint, by ID.
	Sheets map[string]Spreadsheet `json:"sheets,omitempty"`
}

// User is one Google account whose address is in the customer's domain.
type User struct {
	Email string `json:"email"`
	// Kind is "unmanaged" (a consumer account, the default), "managed" or
	// "deleted".
	Kind string `json:"kind,omitempty"`
	// State is the invitation state, NOT_YET_SENT by default.
	State string `json:"state,omitempty"`
	// Recent accounts were created in the last 48 hours: get and list do not
	// show them until a send creates their invitation.
	Recent bool  `json:"recent,omitempty"`
	Mails  int64 `json:"mails,omitempty"`
	// UpdateTime defaults to a fixed time plus one minute per position in the
	// file, so listings by update_time are deterministic.
	UpdateTime time.Time `json:"updateTime,omitzero"`
	// Refuse makes one method answer for this address alone with Google's
	// error for an HTTP code, {"send": 403}, while every other call works:
	// GAM treats such refusals of isInvitableUser, send and cancel as the
	// outcome of one address. Methods: isInvitableUser, get, send, cancel;
	// codes 400, 403, 404. A refused call changes nothing and emails no one.
	Refuse map[string]int `json:"refuse,omitempty"`
	// Hold delays the next call of a method for this address, {"send":
	// "500ms"}: the call is applied only after the duration, whether or not
	// its client is still waiting, and the hold is then used up. It models a
	// request stuck in Google's front end that lands after the client gave up.
	Hold map[string]Duration `json:"hold,omitempty"`
}

// Account kinds.
const (
	KindUnmanaged = "unmanaged"
	KindManaged   = "managed"
	// KindDeleted is an account that no longer exists: not invitable, not
	// listed, and a send is refused as for an address without an account.
	KindDeleted = "deleted"
)

// The methods that Refuse and Hold can name: those of one address.
var addressMethods = []string{"isInvitableUser", "get", "send", "cancel"}

// refusals are the HTTP codes Refuse can name, with the gRPC status and the
// message Google's front end gives when the backend says no more.
var refusals = map[int]struct{ status, message string }{
	400: {"INVALID_ARGUMENT", "Request contains an invalid argument."},
	403: {"PERMISSION_DENIED", "The caller does not have permission"},
	404: {"NOT_FOUND", "Requested entity was not found."},
}

// Duration is a time.Duration written in JSON as a Go duration string,
// such as "500ms" or "2m".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "500ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"500ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

func validateRefuse(m map[string]int) error {
	for _, method := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(addressMethods, method) {
			return fmt.Errorf("refuse: unknown method %q (want one of %s)", method, strings.Join(addressMethods, ", "))
		}
		if _, ok := refusals[m[method]]; !ok {
			return fmt.Errorf("refuse: %s: code %d is not 400, 403 or 404", method, m[method])
		}
	}
	return nil
}

func validateHold(m map[string]Duration) error {
	for _, method := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(addressMethods, method) {
			return fmt.Errorf("hold: unknown method %q (want one of %s)", method, strings.Join(addressMethods, ", "))
		}
		if m[method] <= 0 {
			return fmt.Errorf("hold: %s: duration %s is not positive", method, duration.Format(time.Duration(m[method])))
		}
	}
	return nil
}

func validKind(k string) bool { return k == KindUnmanaged || k == KindManaged || k == KindDeleted }

// The API's invitation states.
const (
	StateNotYetSent = "NOT_YET_SENT"
	StateInvited    = "INVITED"
	StateAccepted   = "ACCEPTED"
	StateDeclined   = "DECLINED"
)

var states = []string{StateNotYetSent, StateInvited, StateAccepted, StateDeclined}

func parseState(s string) (string, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for _, st := range states {
		if u == st {
			return st, true
		}
	}
	return "", false
}

var customerRE = regexp.MustCompile(`^C[A-Za-z0-9]+$`)

// baseTime anchors default update times.
var baseTime = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// LoadWorld reads and validates a world file.
func LoadWorld(path string) (World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return World{}, fmt.Errorf("read world: %w", err)
	}
	return ParseWorld(b, path)
}

// ParseWorld decodes and validates a world; name appears in errors.
func ParseWorld(b []byte, name string) (World, error) {
	var w World
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return World{}, fmt.Errorf("world %s: %w", name, err)
	}
	if err := w.Validate(); err != nil {
		return World{}, fmt.Errorf("world %s: %w", name, err)
	}
	return w, nil
}

// Validate checks the world and fills in defaults.
func (w *World) Validate() error {
	if !customerRE.MatchString(w.Customer) {
		return fmt.Errorf("customer %q is not C followed by letters and digits", w.Customer)
	}
	for i, a := range w.Admins {
		key, err := address.Key(a)
		if err != nil {
			return fmt.Errorf("admin %d: %w", i+1, err)
		}
		w.Admins[i] = key
	}
	seen := make(map[string]int, len(w.Users))
	for i := range w.Users {
		u := &w.Users[i]
		key, err := address.Key(u.Email)
		if err != nil {
			return fmt.Errorf("user %d: %w", i+1, err)
		}
		u.Email = key
		if j, dup := seen[u.Email]; dup {
			return fmt.Errorf("user %d: %s repeats user %d", i+1, u.Email, j)
		}
		seen[u.Email] = i + 1
		if u.Kind == "" {
			u.Kind = KindUnmanaged
		}
		if !validKind(u.Kind) {
			return fmt.Errorf("user %d (%s): kind %q is not unmanaged, managed or deleted", i+1, u.Email, u.Kind)
		}
		if u.State == "" {
			u.State = StateNotYetSent
		}
		st, ok := parseState(u.State)
		if !ok {
			return fmt.Errorf("user %d (%s): unknown state %q", i+1, u.Email, u.State)
		}
		u.State = st
		if u.Mails < 0 {
			return fmt.Errorf("user %d (%s): negative mails", i+1, u.Email)
		}
		if u.UpdateTime.IsZero() {
			u.UpdateTime = baseTime.Add(time.Duration(i) * time.Minute)
		}
		u.UpdateTime = u.UpdateTime.UTC()
		if err := errors.Join(validateRefuse(u.Refuse), validateHold(u.Hold)); err != nil {
			return fmt.Errorf("user %d (%s): %w", i+1, u.Email, err)
		}
	}
	for id, s := range w.Sheets {
		if len(s.Tabs) == 0 {
			return fmt.Errorf("spreadsheet %s has no sheets", id)
		}
	}
	return nil
}
