package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/invitectl/invitectl/pkg/address"
)

// What other actors do to an invitation while invitectl runs: another
// administrator in the Admin console, GAM or the transfer tool (send,
// cancel), or the user (accept, decline).
const (
	ActSend    = "send"    // emails the user, as invitectl's send does
	ActCancel  = "cancel"  // INVITED becomes NOT_YET_SENT
	ActAccept  = "accept"  // INVITED becomes ACCEPTED
	ActDecline = "decline" // INVITED becomes DECLINED
)

// Change is one change made by someone other than invitectl: an action
// (Do) or a direct edit of the account (Set), exactly one of them. It is
// the JSON of one element of POST /_emulator/accounts.
type Change struct {
	Email string         `json:"email"`
	Do    string         `json:"do,omitempty"`
	Set   *AccountChange `json:"set,omitempty"`
}

// AccountChange edits an account directly, as if it had always been so: it
// emails no one. Empty and nil fields stay as they are. A change to an
// address the world does not hold creates its account: unmanaged,
// NOT_YET_SENT and recent (created just now, so get and list do not show
// it) unless the change says otherwise.
type AccountChange struct {
	State  string `json:"state,omitempty"` // NOT_YET_SENT, INVITED, ACCEPTED, DECLINED
	Kind   string `json:"kind,omitempty"`  // unmanaged, managed, deleted
	Mails  *int64 `json:"mails,omitempty"` // mailsSentCount
	Recent *bool  `json:"recent,omitempty"`
	// Refuse and Hold replace the account's; an empty map clears them.
	Refuse map[string]int      `json:"refuse,omitempty"`
	Hold   map[string]Duration `json:"hold,omitempty"`
	// UpdateTime defaults to now when State or Kind changes.
	UpdateTime time.Time `json:"updateTime,omitzero"`
}

// ChangeError is a change that was refused, and with it the whole batch.
type ChangeError struct {
	Index int // 1-based position in the batch
	Email string
	Err   error
}

func (e *ChangeError) Error() string {
	if e.Email == "" {
		return fmt.Sprintf("change %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("change %d (%s): %v", e.Index, e.Email, e.Err)
}

func (e *ChangeError) Unwrap() error { return e.Err }

// Act makes another actor act on one invitation: ActSend, ActCancel,
// ActAccept or ActDecline. A send by another actor emails the user and is
// counted as such; cancel, accept and decline need an INVITED invitation.
func (s *Server) Act(email, action string) error {
	_, err := s.Apply(Change{Email: email, Do: action})
	return err
}

// Set edits one account (see AccountChange).
func (s *Server) Set(email string, change AccountChange) error {
	_, err := s.Apply(Change{Email: email, Set: &change})
	return err
}

// Apply makes the changes in order, all or none: it returns a *ChangeError
// for the first one that cannot be made, and then nothing has changed.
// Otherwise it returns the accounts the changes touched, as they are now,
// in the order of their first change.
func (s *Server) Apply(changes ...Change) ([]AccountState, error) {
	for i := range changes {
		if err := changes[i].normalise(); err != nil {
			return nil, &ChangeError{Index: i + 1, Email: changes[i].Email, Err: err}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Check the whole batch on views of the accounts first, so that a
	// refused change leaves nothing half done.
	views := map[string]view{}
	for i, ch := range changes {
		v, ok := views[ch.Email]
		if !ok {
			v = viewOf(s.account(ch.Email))
		}
		next, err := ch.next(v)
		if err != nil {
			return nil, &ChangeError{Index: i + 1, Email: ch.Email, Err: err}
		}
		views[ch.Email] = next
	}
	now := s.now()
	// Accounts a change creates wait beside the sorted slice until the end,
	// so that a batch of many new addresses costs one sort.
	created := map[string]*account{}
	lookup := func(email string) *account {
		if a := s.account(email); a != nil {
			return a
		}
		if a := created[email]; a != nil {
			return a
		}
		u := &User{Email: email, Kind: KindUnmanaged, State: StateNotYetSent, Recent: true, UpdateTime: now.UTC()}
		a := &account{User: u, owned: true, State: u.State, UpdateTime: u.UpdateTime}
		created[email] = a
		return a
	}
	var touched []string
	seen := map[string]bool{}
	reindex := false
	for _, ch := range changes {
		if !seen[ch.Email] {
			seen[ch.Email] = true
			touched = append(touched, ch.Email)
		}
		a := lookup(ch.Email)
		if ch.Set != nil {
			reindex = s.set(a, *ch.Set, now) || reindex
			continue
		}
		switch ch.Do {
		case ActSend:
			s.send(a, now)
			a.otherSends++
		case ActCancel:
			s.cancel(a, now)
		case ActAccept, ActDecline:
			a.State, a.UpdateTime = map[string]string{ActAccept: StateAccepted, ActDecline: StateDeclined}[ch.Do], now.UTC()
			s.version++
		}
	}
	if len(created) > 0 {
		for _, a := range created {
			s.all = append(s.all, *a)
		}
		slices.SortFunc(s.all, byAddress)
		reindex = true
	}
	if reindex {
		s.reindex()
	}
	out := make([]AccountState, len(touched))
	for i, email := range touched {
		out[i] = s.accountState(s.account(email), now)
	}
	return out, nil
}

// normalise validates what a change says by itself and normalises it.
func (ch *Change) normalise() error {
	key, err := address.Key(ch.Email)
	if err != nil {
		return err
	}
	ch.Email = key
	switch {
	case ch.Do == "" && ch.Set == nil:
		return errors.New(`a change needs "do" or "set"`)
	case ch.Do != "" && ch.Set != nil:
		return errors.New(`a change has "do" or "set", not both`)
	case ch.Do != "":
		if !slices.Contains([]string{ActSend, ActCancel, ActAccept, ActDecline}, ch.Do) {
			return fmt.Errorf("do %q: want send, cancel, accept or decline", ch.Do)
		}
		return nil
	}
	set := ch.Set
	if set.State != "" {
		st, ok := parseState(set.State)
		if !ok {
			return fmt.Errorf("set: unknown state %q", set.State)
		}
		set.State = st
	}
	if set.Kind != "" && !validKind(set.Kind) {
		return fmt.Errorf("set: kind %q is not unmanaged, managed or deleted", set.Kind)
	}
	if set.Mails != nil && *set.Mails < 0 {
		return errors.New("set: negative mails")
	}
	return errors.Join(validateRefuse(set.Refuse), validateHold(set.Hold))
}

// view is what a change's checks need of an account.
type view struct {
	exists      bool
	kind, state string
}

func viewOf(a *account) view {
	if a == nil {
		return view{}
	}
	return view{exists: true, kind: a.Kind, state: a.State}
}

// next checks the change against the account as earlier changes left it
// and returns the account after it.
func (ch Change) next(v view) (view, error) {
	if ch.Set != nil {
		if !v.exists {
			v = view{exists: true, kind: KindUnmanaged, state: StateNotYetSent}
		}
		if ch.Set.Kind != "" {
			v.kind = ch.Set.Kind
		}
		if ch.Set.State != "" {
			v.state = ch.Set.State
		}
		return v, nil
	}
	if ch.Do == ActSend {
		if why := canSend(v); why != "" {
			return v, errors.New("send: " + why)
		}
		v.state = StateInvited
		return v, nil
	}
	if !v.exists || v.state != StateInvited {
		state := v.state
		if !v.exists {
			state = "no account"
		}
		return v, fmt.Errorf("%s needs an INVITED invitation; this one is %s", ch.Do, state)
	}
	v.state = map[string]string{ActCancel: StateNotYetSent, ActAccept: StateAccepted, ActDecline: StateDeclined}[ch.Do]
	return v, nil
}

// set applies an AccountChange and reports whether the account's kind
// changed (the indexes must be rebuilt); the caller holds s.mu.
func (s *Server) set(a *account, ch AccountChange, now time.Time) bool {
	u := a.own()
	kindChanged := ch.Kind != "" && ch.Kind != u.Kind
	if ch.Kind != "" {
		u.Kind = ch.Kind
		if u.Kind == KindUnmanaged && !u.Recent {
			a.visible = true
		}
	}
	if ch.Recent != nil {
		u.Recent = *ch.Recent
		a.visible, a.visibleAt = !u.Recent, time.Time{}
	}
	if ch.State != "" {
		a.State = ch.State
	}
	if ch.Mails != nil {
		a.Mails = *ch.Mails
	}
	if ch.Refuse != nil {
		u.Refuse = maps.Clone(ch.Refuse)
	}
	if ch.Hold != nil {
		u.Hold = maps.Clone(ch.Hold)
	}
	switch {
	case !ch.UpdateTime.IsZero():
		a.UpdateTime = ch.UpdateTime.UTC()
	case ch.State != "" || ch.Kind != "":
		a.UpdateTime = now.UTC()
	}
	s.version++
	return kindChanged
}

// serveAccounts is POST /_emulator/accounts: a JSON array of changes,
// applied all or none; the answer is {"accounts": [...]} with the accounts
// they touched, or a 400 naming the change and the problem.
func (s *Server) serveAccounts(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "read body: "+err.Error())
		return
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
			`body: want a JSON array of changes such as [{"email": "a@example.com", "do": "accept"}]: `+err.Error())
		return
	}
	changes := make([]Change, len(raws))
	for i, raw := range raws {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&changes[i]); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", (&ChangeError{Index: i + 1, Err: err}).Error())
			return
		}
	}
	accounts, err := s.Apply(changes...)
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Accounts []AccountState `json:"accounts"`
	}{accounts})
}
