package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/address"
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
	// Kind is "unmanaged" (a consumer account, the default) or "managed".
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
}

// Account kinds.
const (
	KindUnmanaged = "unmanaged"
	KindManaged   = "managed"
)

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
		switch u.Kind {
		case "":
			u.Kind = KindUnmanaged
		case KindUnmanaged, KindManaged:
		default:
			return fmt.Errorf("user %d (%s): kind %q is not unmanaged or managed", i+1, u.Email, u.Kind)
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
	}
	for id, s := range w.Sheets {
		if len(s.Tabs) == 0 {
			return fmt.Errorf("spreadsheet %s has no sheets", id)
		}
	}
	return nil
}
