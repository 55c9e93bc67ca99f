package emulator

import (
	"maps"
	"net/http"
	"sort"
	"time"
)

// AccountState is one account as GET /_emulator/state reports it.
type AccountState struct {
	Email string `json:"email"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	// Mails is the invitation's mailsSentCount, the world's count included.
	Mails int64 `json:"mails"`
	// Visible is whether get and list show the invitation now.
	Visible    bool      `json:"visible"`
	Recent     bool      `json:"recent,omitempty"`
	UpdateTime time.Time `json:"updateTime"`
	// Sends and Cancels count the calls applied through the API.
	Sends   int `json:"sends"`
	Cancels int `json:"cancels"`
	// Emails counts the emails the person received since the emulator
	// started (or was reset): EmailsFromAPI through the API's send (what
	// invitectl does), EmailsFromOthers from other actors (POST
	// /_emulator/accounts, Act). Exactly once means Emails == 1.
	Emails           int `json:"emails"`
	EmailsFromAPI    int `json:"emailsFromApi"`
	EmailsFromOthers int `json:"emailsFromOthers"`
	// Refused counts calls refused by the account's Refuse.
	Refused int `json:"refused,omitempty"`
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
	// QuotaRejections counts quota 429s by the kind of call rejected
	// ("read", "write"); QuotaRejectionsByLimit by the limit that was spent
	// (its quota_limit, such as ReadsPerMinutePerUser). Injected 429 faults
	// are under Faults.
	QuotaRejections        map[string]int `json:"quotaRejections"`
	QuotaRejectionsByLimit map[string]int `json:"quotaRejectionsByLimit"`
	// Held counts held calls that have not been applied yet.
	Held int `json:"held"`
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
	now := s.now()
	snap := Snapshot{
		Customer:               s.world.Customer,
		Accounts:               make([]AccountState, 0, len(s.all)),
		Calls:                  maps.Clone(s.calls),
		QuotaRejections:        maps.Clone(s.quota),
		QuotaRejectionsByLimit: maps.Clone(s.quotaBy),
		Held:                   s.pending,
		Faults:                 maps.Clone(s.faults),
		Auth:                   s.auth.state(),
	}
	for i := range s.all { // sorted by email
		snap.Accounts = append(snap.Accounts, s.accountState(&s.all[i], now))
	}
	return snap
}

// accountState reports one account; the caller holds s.mu.
func (s *Server) accountState(a *account, now time.Time) AccountState {
	return AccountState{
		Email: a.Email, Kind: a.Kind, State: a.State, Mails: a.Mails, Visible: a.shown(now), Recent: a.Recent,
		UpdateTime: a.UpdateTime, Sends: int(a.sends), Cancels: int(a.cancels),
		Emails: int(a.sends + a.otherSends), EmailsFromAPI: int(a.sends), EmailsFromOthers: int(a.otherSends),
		Refused:      int(a.refused),
		FaultsBefore: int(a.faultsBefore), FaultsAfter: int(a.faultsAfter),
	}
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
