package invitations

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
)

// Scopes of the User Invitation API; the generated package has no constants
// for them.
const ()

// API versions the adapter speaks.
const (
	V1      = "v1"
	V1Beta1 = "v1beta1"
)

// Config builds an adapter.
type Config struct {
	Customer   string
	APIVersion string // V1 (default) or V1Beta1
	// Endpoint is the API's base URL; empty means Google's.
	Endpoint string
	// TokenSource authenticates every call; nil sends no authentication
	// (an emulator).
	TokenSource oauth2.TokenSource
	// Transport carries the requests; nil means a transport sized for many
	// concurrent calls.
	Transport http.RoundTripper
	// CallTimeout bounds each call; a call that times out is ambiguous.
	// Zero means 60 s.
	CallTimeout time.Duration
	// Logger receives the generated client's own request log; nil keeps it off.
	Logger    *slog.Logger
	UserAgent string
}

// Adapter implements Client over the generated cloudidentity package.
type Adapter struct {
	parent  string
	timeout time.Duration
	api     backend
}

var _ Client = (*Adapter)(nil)

// New builds an adapter. It validates the customer ID; it makes no call.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	if err := ValidateCustomer(cfg.Customer); err != nil {
		return nil, err
	}
	rt := cfg.Transport
	if rt == nil {
		rt = NewTransport()
	}
	if cfg.TokenSource != nil {
		rt = &oauth2.Transport{Source: tokenSource{cfg.TokenSource}, Base: rt}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts := []option.ClientOption{
		option.WithHTTPClient(&http.Client{Transport: rt}),
		option.WithLogger(logger),
	}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(cfg.Endpoint, "/")+"/"))
	}
	if cfg.UserAgent != "" {
		opts = append(opts, option.WithUserAgent(cfg.UserAgent))
	}
	var (
		api backend
		err error
	)
	switch cfg.APIVersion {
	case "", V1:
		api, err = newV1(ctx, opts)
	case V1Beta1:
		api, err = newV1beta1(ctx, opts)
	default:
		return nil, fmt.Errorf("unknown API version %q (want v1 or v1beta1)", cfg.APIVersion)
	}
	if err != nil {
		return nil, fmt.Errorf("build cloudidentity client: %w", err)
	}
	timeout := cfg.CallTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	return &Adapter{parent: "customers/" + cfg.Customer, timeout: timeout, api: api}, nil
}

// NewTransport returns an HTTP transport that keeps enough idle connections
// for hundreds of concurrent calls to one host.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
}

func (a *Adapter) name(email string) string {
	return a.parent + "/userinvitations/" + email
}

// call runs one API call with the per-call timeout and classifies its error.
func (a *Adapter) call(ctx context.Context, method, email string, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return wrap(ctx, method, email, fn(cctx))
}

// IsInvitable asks isInvitableUser: a real-time answer, unlike get and list.
func (a *Adapter) IsInvitable(ctx context.Context, email string) (bool, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return false, err
	}
	var ok bool
	err = a.call(ctx, "isInvitableUser", e, func(ctx context.Context) (err error) {
		ok, err = a.api.isInvitable(ctx, a.name(e))
		return err
	})
	return ok, err
}

// Get reads one invitation.
func (a *Adapter) Get(ctx context.Context, email string) (Invitation, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return Invitation{}, err
	}
	var w wireInvitation
	err = a.call(ctx, "get", e, func(ctx context.Context) (err error) {
		w, err = a.api.get(ctx, a.name(e))
		return err
	})
	if err != nil {
		return Invitation{}, err
	}
	return w.invitation()
}

// List streams every page of the listing to page, in order.
func (a *Adapter) List(ctx context.Context, opts ListOptions, page func([]Invitation) error) error {
	size := opts.PageSize
	if size <= 0 || size > MaxPageSize {
		size = MaxPageSize
	}
	pace := opts.Pace
	if pace == nil {
		pace = func(ctx context.Context, call func(context.Context) error) error { return call(ctx) }
	}
	q := listQuery{parent: a.parent, filter: opts.Filter(), orderBy: opts.Order.String(), pageSize: int64(size)}
	for {
		var resp wirePage
		err := pace(ctx, func(ctx context.Context) error {
			return a.call(ctx, "list", "", func(ctx context.Context) (err error) {
				resp, err = a.api.list(ctx, q)
				return err
			})
		})
		if err != nil {
			return err
		}
		invs := make([]Invitation, 0, len(resp.Items))
		for _, w := range resp.Items {
			inv, err := w.invitation()
			if err != nil {
				return err
			}
			invs = append(invs, inv)
		}
		if err := page(invs); err != nil {
			return err
		}
		if resp.Next == "" {
			return nil
		}
		q.pageToken = resp.Next
	}
}

// Send sends (or re-sends) the invitation email. It is not idempotent: every
// success emails the person once more.
func (a *Adapter) Send(ctx context.Context, email string) (Result, error) {
	return a.mutate(ctx, "send", email, a.api.send)
}

// Cancel cancels a sent invitation.
func (a *Adapter) Cancel(ctx context.Context, email string) (Result, error) {
	return a.mutate(ctx, "cancel", email, a.api.cancel)
}

func (a *Adapter) mutate(ctx context.Context, method, email string, fn func(context.Context, string) (wireOperation, error)) (Result, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return Result{}, err
	}
	var op wireOperation
	err = a.call(ctx, method, e, func(ctx context.Context) (err error) {
		op, err = fn(ctx, a.name(e))
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return op.result(method, e)
}

// The wire types are the JSON shapes both API versions share; each version's
// generated structs are converted to them field by field (invitations,
// pages) or through their JSON encoding (operations).
type wireInvitation struct {
	Name           string `json:"name"`
	State          string `json:"state"`
	MailsSentCount int64  `json:"mailsSentCount,string"`
	UpdateTime     string `json:"updateTime"`
}

func (w wireInvitation) invitation() (Invitation, error) {
	_, email, ok := strings.Cut(w.Name, "/userinvitations/")
	if !ok {
		return Invitation{}, fmt.Errorf("API returned an invitation named %q, not customers/…/userinvitations/ADDRESS", w.Name)
	}
	inv := Invitation{Email: strings.ToLower(email), State: internState(w.State), MailsSentCount: w.MailsSentCount}
	if w.UpdateTime != "" {
		t, err := time.Parse(time.RFC3339Nano, w.UpdateTime)
		if err != nil {
			return Invitation{}, fmt.Errorf("API returned invitation %s with updateTime %q: %w", email, w.UpdateTime, err)
		}
		inv.UpdateTime = t.UTC()
	}
	return inv, nil
}

// wireFields is a generated UserInvitation (v1 and v1beta1 have the same
// fields) as a wireInvitation: what convert's JSON round trip gives, without
// encoding and decoding every invitation of a listing twice.
func wireFields(name, state, updateTime string, mails int64) wireInvitation {
	return wireInvitation{Name: name, State: state, MailsSentCount: mails, UpdateTime: updateTime}
}

// internState returns the package's constant for a known state, so that a
// listing of a million invitations does not hold a million copies of
// "NOT_YET_SENT"; an unknown state is kept as the API sent it.
func internState(s string) State {
	for _, st := range States {
		if string(st) == s {
			return st
		}
	}
	return State(s)
}

type wirePage struct {
	Items []wireInvitation `json:"userInvitations"`
	Next  string           `json:"nextPageToken"`
}

type wireOperation struct {
	Name  string `json:"name"`
	Done  bool   `json:"done"`
	Error *struct {
		Code    int64             `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	} `json:"error"`
	Response json.RawMessage `json:"response"`
}

func (op wireOperation) result(method, email string) (Result, error) {
	if op.Error != nil {
		return Result{Operation: op.Name}, operationError(method, email, op.Name, op.Error.Code, op.Error.Message, op.Error.Details)
	}
	if !op.Done {
		// v1 has no operations service to poll, so a pending operation is an
		// outcome the caller must reconcile by reading the invitation.
		return Result{Operation: op.Name}, &Error{Kind: KindAmbiguous, Method: method, Email: email, Operation: op.Name,
			Message: fmt.Sprintf("operation %s is not done yet and cannot be polled", op.Name)}
	}
	res := Result{Operation: op.Name}
	if len(op.Response) > 0 {
		var w wireInvitation
		if err := json.Unmarshal(op.Response, &w); err == nil && w.Name != "" {
			if inv, err := w.invitation(); err == nil {
				res.Invitation = &inv
			}
		}
	}
	return res, nil
}

type listQuery struct {
	parent, filter, orderBy, pageToken string
	pageSize                           int64
}

// backend is one API version of the generated client.
type backend interface {
	isInvitable(ctx context.Context, name string) (bool, error)
	get(ctx context.Context, name string) (wireInvitation, error)
	list(ctx context.Context, q listQuery) (wirePage, error)
	send(ctx context.Context, name string) (wireOperation, error)
	cancel(ctx context.Context, name string) (wireOperation, error)
}

// convert re-reads a generated struct as one of the wire types.
func convert[W any](v any, err error) (W, error) {
	var w W
	if err != nil {
		return w, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return w, fmt.Errorf("re-encode API response: %w", err)
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("decode API response: %w", err)
	}
	return w, nil
}

// tokenSource marks the errors of getting a token, so that they are
// classified as what they are: the API request never left.
type tokenSource struct{ ts oauth2.TokenSource }

func (t tokenSource) Token() (*oauth2.Token, error) {
	tok, err := t.ts.Token()
	if err != nil {
		return nil, &TokenFailure{Err: err}
	}
	return tok, nil
}

// TokenFailure is a failure to get an access token.
type TokenFailure struct{ Err error }

func (e *TokenFailure) Error() string { return "get an access token: " + e.Err.Error() }
func (e *TokenFailure) Unwrap() error { return e.Err }
