package emulator

import (
	"net/http"
	"sort"
	"time"
)

// AccountState is one account as GET /_emulator/state reports it.
type AccountState struct {
	Email      string    `json:"email"`
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	Mails      int64     `json:"mails"`
	Visible    bool      `json:"visible"`
	UpdateTime time.Time `json:"updateTime"`
	Sends      int       `json:"sends"`
	Cancels    int       `json:"cancels"`
	// FaultsBefore counts send and cancel calls on this account that failed
	// with nothing applied; FaultsAfter those that were applied although the
	// caller saw a failure.
	FaultsBefore int `json:"faultsBefore,omitempty"`
	FaultsAfter  int `json:"faultsAfter,omitempty"`
}

// Snapshot is the emulator's whole state and its counters.
type Snapshot struct {
	Customer string         `json:"customer"`
	Accounts []AccountState `json:"accounts"`
	// Calls counts API calls per method, rejected ones included.
	Calls map[string]int `json:"calls"`
	// QuotaRejections counts 429s from the quota buckets ("read", "write").
	QuotaRejections map[string]int `json:"quotaRejections"`
	// Faults counts injected faults by kind: 429, 503, 503_after, reset,
	// reset_after.
	Faults map[string]int `json:"faults"`
	// Auth is what the token endpoint saw, when it is on.
	Auth *AuthState `json:"auth,omitempty"`
}

// Account returns one account's state by address.
func (s Snapshot) Account(email string) (AccountState, bool) {
	i := sort.Search(len(s.Accounts), func(i int) bool { return s.Accounts[i].Email >= email })
	if i < len(s.Accounts) && s.Accounts[i].Email == email {
		return s.Accounts[i], true
	}
	return AccountState{}, false
}

// State returns a snapshot of every account, sorted by address.
func (s *Server) State() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{
		Customer:        s.world.Customer,
		Accounts:        make([]AccountState, 0, len(s.all)),
		Calls:           clone(s.calls),
		QuotaRejections: clone(s.quota),
		Faults:          clone(s.faults),
		Auth:            s.auth.state(),
	}
	for i := range s.all { // sorted by email
		a := &s.all[i]
		snap.Accounts = append(snap.Accounts, AccountState{
			Email: a.Email, Kind: a.Kind, State: a.State, Mails: a.Mails, Visible: a.visible,
			UpdateTime: a.UpdateTime, Sends: int(a.sends), Cancels: int(a.cancels),
			FaultsBefore: int(a.faultsBefore), FaultsAfter: int(a.faultsAfter),
		})
	}
	return snap
}

func clone(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Reset restores the starting world (re-read through Config.Reload when set)
// and zeroes the counters.
func (s *Server) Reset() error {
	s.mu.Lock()
	w := s.world
	s.mu.Unlock()
	if s.cfg.Reload != nil {
		var err error
		if w, err = s.cfg.Reload(); err != nil {
			return err
		}
		if err := w.Validate(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load(w)
	return nil
}

func (s *Server) serveState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) serveReset(w http.ResponseWriter, _ *http.Request) {
	if err := s.Reset(); err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL", "reset: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
