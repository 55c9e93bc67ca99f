// Package emulator is an in-memory Cloud Identity user-invitation server that
// behaves as Google's does, harsh parts included: the five methods under
// /v1/ and /v1beta1/, Google's error envelope and JSON conventions, the
// 48-hour visibility gap, per-minute and per-day quotas, per-address
// refusals, other actors, held requests, injectable faults, the Sheets calls
// invitectl makes, the OAuth endpoints and an introspection endpoint for
// tests. It is an http.Handler used by tests, `invitectl emulator` and
// --sandbox. The README's emulator section lists what it models and the
// assumptions where Google documents nothing.
package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/scope"
)

// Config tunes quota, latency, visibility and faults. The zero value is a
// perfect, unlimited, instant API.
type Config struct {
	// Quota is the per-minute and per-day request limits, counted as Google
	// counts them; the zero value is unlimited.
	Quota Quota
	// SendVisibilityLag keeps the invitation that a send creates for a
	// recent account (one that get and list do not show yet) out of get and
	// list for this long after the send. Zero shows it at once. Google
	// documents no such delay; it documents that its listing is an index
	// that can lag, so a test of exactly-once must survive one.
	SendVisibilityLag time.Duration
	// Latency is added to every API call, half before the change is applied
	// and half after, so a client killed mid-call may or may not have acted.
	Latency, Jitter time.Duration
	// Fault probabilities, drawn independently on every API call in this
	// order: a 429 (bare, without quota details), a 503 before the change, a
	// 503 after the change was applied, a connection reset without a
	// response (after the change for half of the mutating calls).
	Fault429, Fault503, Fault503After, FaultReset float64
	Seed                                          uint64
	// Now is the clock of timestamps and quota windows; nil means time.Now.
	// Latency and holds sleep on real timers (fake ones inside a
	// testing/synctest bubble).
	Now func() time.Time
	// Reload returns the world for POST /_emulator/reset; nil reuses the
	// world the server started with.
	Reload func() (World, error)
	// Auth makes the API demand tokens from the emulator's own token
	// endpoint and serves the OAuth endpoints; the zero value accepts any
	// call.
	Auth AuthConfig
}

// account is one user of the world and its invitation as it is now. It
// points to its user in the server's world rather than copying it (a world
// can hold a million users): Email, Kind, Recent, Refuse and Hold come from
// there until a change needs the account's own copy (see own), while State,
// Mails and UpdateTime, which calls change, are the account's own and shadow
// the world's starting values, which Reset needs.
type account struct {
	*User
	owned      bool // User is this account's copy, not the world's
	State      string
	Mails      int64
	UpdateTime time.Time
	visible    bool
	// visibleAt is when the invitation of a lagged send shows up in get and
	// list (see Config.SendVisibilityLag); zero when none is pending.
	visibleAt time.Time
	sends     int32 // sends applied through the API
	cancels   int32 // cancels applied through the API
	// otherSends counts emails that other actors sent (POST
	// /_emulator/accounts).
	otherSends int32
	refused    int32
	// faults counts calls on this account that failed with a fault, split by
	// whether the change had been applied.
	faultsBefore, faultsAfter int32
}

// shown reports whether get and list show the account's invitation at now.
func (a *account) shown(now time.Time) bool {
	return a.Kind == KindUnmanaged && (a.visible || !a.visibleAt.IsZero() && !now.Before(a.visibleAt))
}

// own gives the account its own copy of its user before a change, so that
// the world Reset reloads stays as it was.
func (a *account) own() *User {
	if !a.owned {
		u := *a.User
		u.Refuse, u.Hold = maps.Clone(u.Refuse), maps.Clone(u.Hold)
		a.User, a.owned = &u, true
	}
	return a.User
}

// Server is the emulator. It is safe for concurrent use.
type Server struct {
	cfg  Config
	now  func() time.Time
	mux  *http.ServeMux
	auth *authority // nil when calls need no token
	held sync.WaitGroup

	mu      sync.Mutex
	world   World
	all     []account  // every account, sorted by email; see account()
	byEmail []*account // unmanaged accounts sorted by email
	byTime  []*account // cache of unmanaged accounts sorted by update time
	version uint64     // bumps on every change; invalidates byTime
	layout  uint64     // bumps on every reindex: *account pointers hold until then
	timeVer uint64
	rng     *rand.Rand
	opSeq   uint64
	calls   map[string]int
	quota   map[string]int // rejections by call class: read, write
	quotaBy map[string]int // rejections by quota_limit
	faults  map[string]int
	limits  []limit
	windows map[windowKey]*window
	sheets  map[string]*sheetDoc
	pending int // held calls not applied yet
}

// New builds a server over a validated copy of world.
func New(world World, cfg Config) (*Server, error) {
	if err := world.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Quota.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, now: cfg.Now, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	if s.now == nil {
		s.now = time.Now
	}
	s.limits = cfg.Quota.limits()
	s.load(world)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /_emulator/state", s.serveState)
	s.mux.HandleFunc("POST /_emulator/reset", s.serveReset)
	s.mux.HandleFunc("POST /_emulator/accounts", s.serveAccounts)
	s.mux.HandleFunc("/v1/", s.serveAPI)
	s.mux.HandleFunc("/v1beta1/", s.serveAPI)
	s.mux.HandleFunc("/v4/spreadsheets", s.serveSheets)
	s.mux.HandleFunc("/v4/spreadsheets/", s.serveSheets)
	s.mux.HandleFunc("GET /spreadsheets/d/", s.serveSheetPage)
	if cfg.Auth.Require || cfg.Auth.Disabled || len(cfg.Auth.Clients) > 0 {
		var err error
		if s.auth, err = newAuthority(cfg.Auth, s.now); err != nil {
			return nil, err
		}
		s.mux.HandleFunc("POST /token", s.serveToken)
		s.mux.HandleFunc("/v1/projects/", s.serveSignJwt)
		s.mux.HandleFunc("GET /o/oauth2/auth", s.serveAuthorize)
		s.mux.HandleFunc("GET /o/oauth2/v2/auth", s.serveAuthorize)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The requested URL %s was not found on this server.", r.URL.Path))
	})
	return s, nil
}

// load makes w the state. The accounts point into a copy of w's users, so
// that the caller's world and the server's never share memory. They are
// one sorted slice rather than a map: a world of a million users then
// costs about 190 MB instead of 290 MB, and a lookup is a binary search.
func (s *Server) load(w World) {
	w.Users = slices.Clone(w.Users)
	s.world = w
	s.all = make([]account, len(w.Users))
	for i := range w.Users {
		u := &w.Users[i]
		s.all[i] = account{User: u, State: u.State, Mails: u.Mails, UpdateTime: u.UpdateTime,
			visible: u.Kind == KindUnmanaged && !u.Recent}
	}
	slices.SortFunc(s.all, byAddress)
	s.reindex()
	s.calls = map[string]int{}
	s.quota = map[string]int{}
	s.quotaBy = map[string]int{}
	s.faults = map[string]int{}
	s.windows = map[windowKey]*window{}
	s.sheets = make(map[string]*sheetDoc, len(w.Sheets))
	for id, sp := range w.Sheets {
		s.sheets[id] = newSheetDoc(sp)
	}
}

func byAddress(a, b account) int { return strings.Compare(a.Email, b.Email) }

// reindex rebuilds the pointers into s.all after it was built or grew; the
// caller holds s.mu (or owns s).
func (s *Server) reindex() {
	s.byEmail = s.byEmail[:0]
	for i := range s.all {
		if a := &s.all[i]; a.Kind == KindUnmanaged {
			s.byEmail = append(s.byEmail, a)
		}
	}
	s.byTime = nil
	s.version++
	s.layout++
}

// account finds an account by its normalised address, or nil; the caller
// holds s.mu. The pointer is good until the next reindex.
func (s *Server) account(email string) *account {
	i, ok := slices.BinarySearchFunc(s.all, email, func(a account, e string) int { return strings.Compare(a.Email, e) })
	if !ok {
		return nil
	}
	return &s.all[i]
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// call is one parsed API request.
type call struct {
	version  string // v1 or v1beta1
	customer string
	method   string // isInvitableUser, get, list, send, cancel
	email    string
	// acct is s.account(email) as found in layout at (see accountOf); at
	// is 0 before the first lookup (the first load makes layout 1).
	acct *account
	at   uint64
}

// accountOf is s.account(c.email), looked up once for the call and again
// only when the accounts were reindexed since; the caller holds s.mu.
func (s *Server) accountOf(c *call) *account {
	if c.at != s.layout {
		c.acct, c.at = s.account(c.email), s.layout
	}
	return c.acct
}

func (c call) write() bool { return c.method == "send" || c.method == "cancel" }

// scopesFor lists the scopes any of which lets a token make the call.
func scopesFor(c call) []string {
	if c.write() {
		return []string{scope.Invitations}
	}
	return []string{scope.Invitations, scope.InvitationsReadOnly}
}

// route maps a path to a call, or writes the error.
func route(w http.ResponseWriter, r *http.Request) (call, bool) {
	var c call
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	c.version = "v1"
	if !ok {
		rest, _ = strings.CutPrefix(r.URL.Path, "/v1beta1/")
		c.version = "v1beta1"
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 || parts[0] != "customers" || parts[2] != "userinvitations" || parts[1] == "" {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The requested URL %s was not found on this server.", r.URL.Path))
		return c, false
	}
	c.customer = parts[1]
	want := http.MethodGet
	switch {
	case len(parts) == 3:
		c.method = "list"
	default:
		name, verb, hasVerb := strings.Cut(parts[3], ":")
		c.email = name
		switch {
		case !hasVerb:
			c.method = "get"
		case verb == "isInvitableUser":
			c.method = "isInvitableUser"
		case verb == "send" || verb == "cancel":
			c.method, want = verb, http.MethodPost
		default:
			writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The requested URL %s was not found on this server.", r.URL.Path))
			return c, false
		}
	}
	if r.Method != want {
		writeError(w, http.StatusMethodNotAllowed, "INVALID_ARGUMENT",
			fmt.Sprintf("method %s is not allowed for %s; use %s", r.Method, c.method, want))
		return c, false
	}
	return c, true
}

// serveAPI runs one call through what Google's front end and backend do,
// in order: authentication, quota, the customer, the address, a refusal of
// this address, faults, a hold, the change itself.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	c, ok := route(w, r)
	if !ok {
		return
	}
	// Read the body first: a client whose request was fully read may have
	// been acted on even if it never sees the answer.
	_, _ = io.Copy(io.Discard, r.Body)

	s.mu.Lock()
	s.calls[c.method]++
	customer := s.world.Customer
	s.mu.Unlock()

	g, ok := s.authorize(w, r, true, scopesFor(c)...)
	if !ok {
		return
	}
	s.sleep(r, 0.5)
	if l := s.admit(c, g.who()); l != nil {
		s.writeQuota(w, l)
		return
	}
	if c.customer != customer {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED",
			fmt.Sprintf("The caller does not have permission on customer %s.", c.customer))
		return
	}
	if c.method != "list" {
		key, err := address.Key(c.email)
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid user email in name: "+err.Error())
			return
		}
		c.email = key
	}
	if code := s.refusal(&c); code != 0 {
		ref := refusals[code]
		writeError(w, code, ref.status, ref.message)
		return
	}
	f := s.drawFaults(c)
	if f.before != "" {
		s.fail(w, c, f.before)
		return
	}
	var q url.Values
	if c.method == "list" {
		q = r.URL.Query()
	}
	status, body, ok := s.applyHeld(r.Context(), &c, q, f.after != "")
	if !ok {
		return // the client left; the held call still lands
	}
	s.sleep(r, 0.5)
	if f.after != "" {
		s.fail(w, c, f.after)
		return
	}
	writeJSON(w, status, body)
}

// refusal returns the HTTP code with which the world refuses this call for
// its address, or 0; the refusal is counted.
func (s *Server) refusal(c *call) int {
	if c.email == "" {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountOf(c)
	if a == nil || a.Refuse[c.method] == 0 {
		return 0
	}
	a.refused++
	return a.Refuse[c.method]
}

// applyHeld applies the call, after its hold when the account has one for
// this method. A held call is applied on its own goroutine, so it lands
// even when the client gives up first; ok is false when it did.
func (s *Server) applyHeld(ctx context.Context, c *call, q url.Values, faultAfter bool) (status int, body any, ok bool) {
	s.mu.Lock()
	var hold time.Duration
	if a := s.accountOf(c); a != nil && c.email != "" && a.Hold[c.method] > 0 {
		hold = time.Duration(a.Hold[c.method])
		delete(a.own().Hold, c.method)
		s.pending++
		s.held.Add(1)
	}
	if hold == 0 {
		defer s.mu.Unlock()
		status, body = s.applyCounted(c, q, faultAfter)
		return status, body, true
	}
	s.mu.Unlock()
	type result struct {
		status int
		body   any
	}
	done := make(chan result, 1)
	go func() {
		defer s.held.Done()
		t := time.NewTimer(hold)
		defer t.Stop()
		<-t.C
		s.mu.Lock()
		st, b := s.applyCounted(c, q, faultAfter)
		s.pending--
		s.mu.Unlock()
		done <- result{st, b}
	}()
	select {
	case res := <-done:
		return res.status, res.body, true
	case <-ctx.Done():
		return 0, nil, false
	}
}

// WaitHeld blocks until every held call that has started has been applied.
// Call it once the calls of interest were made, not while others start.
func (s *Server) WaitHeld() { s.held.Wait() }

// applyCounted applies the call and, when a fault will hide the answer
// (faultAfter), records that the change was applied; the caller holds s.mu.
func (s *Server) applyCounted(c *call, q url.Values, faultAfter bool) (int, any) {
	status, body := s.apply(c, q)
	if faultAfter && status == http.StatusOK && c.write() {
		if a := s.accountOf(c); a != nil {
			a.faultsAfter++
		}
	}
	return status, body
}

// apply runs the method against the state; the caller holds s.mu.
func (s *Server) apply(c *call, q url.Values) (int, any) {
	now := s.now()
	switch c.method {
	case "isInvitableUser":
		a := s.accountOf(c)
		if a != nil && a.Kind == KindUnmanaged && a.State != StateAccepted {
			return http.StatusOK, invitableTrue
		}
		return http.StatusOK, invitableFalse
	case "get":
		a := s.accountOf(c)
		if a == nil || !a.shown(now) {
			return notFound(*c)
		}
		return http.StatusOK, s.invitation(c.customer, a)
	case "list":
		return s.list(*c, q, now)
	case "send":
		a := s.accountOf(c)
		if why := canSend(viewOf(a)); why != "" {
			return errorBody(http.StatusBadRequest, "FAILED_PRECONDITION", why)
		}
		s.send(a, now)
		a.sends++
		return http.StatusOK, s.operation(*c, a)
	case "cancel":
		a := s.accountOf(c)
		if a == nil || !a.shown(now) || a.State != StateInvited {
			return errorBody(http.StatusBadRequest, "FAILED_PRECONDITION", cancelRefusal(a, now))
		}
		s.cancel(a, now)
		a.cancels++
		return http.StatusOK, s.operation(*c, a)
	}
	return errorBody(http.StatusNotFound, "NOT_FOUND", "unknown method")
}

// send emails the account's user, whoever asked; the caller holds s.mu and
// checked canSend.
func (s *Server) send(a *account, now time.Time) {
	a.State, a.Mails, a.UpdateTime = StateInvited, a.Mails+1, now.UTC()
	switch {
	case a.shown(now):
	case s.cfg.SendVisibilityLag > 0:
		// The lag runs from the send that created the invitation; later
		// sends do not push it back.
		if a.visibleAt.IsZero() {
			a.visibleAt = now.Add(s.cfg.SendVisibilityLag)
		}
	default:
		a.visible = true
	}
	s.version++
}

// cancel withdraws an INVITED invitation; the caller holds s.mu.
func (s *Server) cancel(a *account, now time.Time) {
	a.State, a.UpdateTime = StateNotYetSent, now.UTC()
	s.version++
}

func notFound(c call) (int, any) {
	return errorBody(http.StatusNotFound, "NOT_FOUND",
		fmt.Sprintf("UserInvitation customers/%s/userinvitations/%s not found.", c.customer, c.email))
}

// canSend returns why a send to the account is refused, or "".
func canSend(v view) string {
	switch {
	case !v.exists || v.kind == KindDeleted:
		return "The user does not have a Google account and cannot be invited."
	case v.kind == KindManaged:
		return "The user is already managed by an organization and cannot be invited."
	case v.state == StateAccepted:
		return "The user has already accepted the invitation."
	}
	return ""
}

func cancelRefusal(a *account, now time.Time) string {
	switch {
	case a == nil || !a.shown(now):
		return "There is no sent invitation to cancel for this user."
	default:
		return fmt.Sprintf("Only an invitation in state INVITED can be cancelled; this one is %s.", a.State)
	}
}

// wireInvitation is the API's UserInvitation JSON: int64 as a string, empty
// and zero fields omitted.
type wireInvitation struct {
	Type           string `json:"@type,omitempty"`
	Name           string `json:"name"`
	State          string `json:"state,omitempty"`
	UpdateTime     string `json:"updateTime,omitempty"`
	MailsSentCount int64  `json:"mailsSentCount,omitempty,string"`
}

func (s *Server) invitation(customer string, a *account) wireInvitation {
	return wireInvitation{
		Name:           "customers/" + customer + "/userinvitations/" + a.Email,
		State:          a.State,
		UpdateTime:     a.UpdateTime.UTC().Format(time.RFC3339Nano),
		MailsSentCount: a.Mails,
	}
}

type wireOperation struct {
	Name     string         `json:"name"`
	Done     bool           `json:"done,omitempty"`
	Response wireInvitation `json:"response"`
}

func (s *Server) operation(c call, a *account) wireOperation {
	s.opSeq++
	inv := s.invitation(c.customer, a)
	inv.Type = "type.googleapis.com/google.apps.cloudidentity." + c.version + ".UserInvitation"
	return wireOperation{
		Name:     fmt.Sprintf("operations/%s-%016x", c.method, s.rng.Uint64()^s.opSeq),
		Done:     true,
		Response: inv,
	}
}

// sleep waits a share of the configured latency, or until the client leaves.
func (s *Server) sleep(r *http.Request, share float64) {
	if s.cfg.Latency <= 0 && s.cfg.Jitter <= 0 {
		return
	}
	d := s.cfg.Latency
	if s.cfg.Jitter > 0 {
		s.mu.Lock()
		d += time.Duration(s.rng.Int64N(int64(s.cfg.Jitter)))
		s.mu.Unlock()
	}
	t := time.NewTimer(time.Duration(float64(d) * share))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// errorEnvelope is Google's JSON error body, a google.rpc.Status: only
// these fields, so that protojson (gax-go's apierror) parses its details.
type errorEnvelope struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []any  `json:"details,omitempty"`
}

func errorBody(code int, status, msg string, details ...any) (int, any) {
	return code, errorEnvelope{Error: errorDetail{Code: code, Message: msg, Status: status, Details: details}}
}

func writeError(w http.ResponseWriter, code int, status, msg string, details ...any) {
	c, body := errorBody(code, status, msg, details...)
	writeJSON(w, c, body)
}

// encoded is a response body already in JSON.
type encoded []byte

// The two answers of isInvitableUser (proto3 JSON omits false), encoded
// once: a campaign asks it for nearly every address.
var (
	invitableTrue  = encoded(`{"isInvitableUser":true}`)
	invitableFalse = encoded(`{}`)
)

func writeJSON(w http.ResponseWriter, code int, body any) {
	b, err := []byte(nil), error(nil)
	if e, ok := body.(encoded); ok {
		b = e
	} else if b, err = json.Marshal(body); err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":{"code":500,"message":"encode response","status":"INTERNAL"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
