package invitations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Method: "list", Message: "boom"}, "list: boom"},
		{Error{Method: "send", Email: "a@x.org", HTTPCode: 400, Status: "FAILED_PRECONDITION", Message: "accepted"}, "send a@x.org: HTTP 400 FAILED_PRECONDITION accepted"},
		{Error{Method: "get", Email: "a@x.org", HTTPCode: 429, Status: "RESOURCE_EXHAUSTED", Reason: "RATE_LIMIT_EXCEEDED", Message: "slow"}, "get a@x.org: HTTP 429 RESOURCE_EXHAUSTED (RATE_LIMIT_EXCEEDED) slow"},
		{Error{Method: "get", Status: "ABORTED", Reason: "ABORTED", Message: "again"}, "get: ABORTED again"},
		{Error{Method: "cancel", Reason: "quotaExceeded", Message: "x"}, "cancel: (quotaExceeded) x"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{" 3 ", 3 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// timeoutErr is a net.Error that says whether it timed out.
type timeoutErr bool

func (e timeoutErr) Error() string   { return "i/o" }
func (e timeoutErr) Timeout() bool   { return bool(e) }
func (e timeoutErr) Temporary() bool { return false }

// More transport failures: what tells "never left" (retry) from "may have
// landed" (read back first) from "unknown".
func TestClassifyTransportMore(t *testing.T) {
	tests := []struct {
		err  error
		kind Kind
	}{
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}}, KindUnavailable},
		{os.NewSyscallError("connect", syscall.ECONNREFUSED), KindUnavailable},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "read", Err: syscall.EINVAL}}, KindUnknown},
		{&url.Error{Op: "Post", Err: timeoutErr(true)}, KindAmbiguous},
		{&url.Error{Op: "Post", Err: timeoutErr(false)}, KindUnknown},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "write", Err: syscall.EPIPE}}, KindAmbiguous},
		{&url.Error{Op: "Post", Err: io.ErrUnexpectedEOF}, KindAmbiguous},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.kind)
		}
	}
}

// A token endpoint's 5xx and 429 are worth retrying (the API call never
// left); anything else it answers is an authentication failure.
func TestClassifyTokenEndpoint(t *testing.T) {
	for code, want := range map[int]Kind{500: KindUnavailable, 502: KindUnavailable, 429: KindUnavailable, 499: KindAuth, 400: KindAuth, 401: KindAuth} {
		err := &TokenFailure{Err: &oauth2.RetrieveError{Response: &http.Response{StatusCode: code}}}
		if got := KindOf(err); got != want {
			t.Errorf("token endpoint %d: %v, want %v", code, got, want)
		}
	}
	if got := KindOf(&TokenFailure{Err: &oauth2.RetrieveError{}}); got != KindAuth {
		t.Errorf("token refusal without a response: %v, want auth", got)
	}
	if got := KindOf(&TokenFailure{Err: context.Canceled}); got != KindCanceled {
		t.Errorf("canceled token fetch: %v", got)
	}
}

// TokenError reads the OAuth error code and description wherever the token
// endpoint put them.
func TestTokenError(t *testing.T) {
	resp := func(status string, code int) *http.Response { return &http.Response{Status: status, StatusCode: code} }
	envelope := `{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.signJwt' denied","status":"PERMISSION_DENIED"}}`
	tests := []struct {
		name       string
		err        error
		code, desc string
		msg        string
	}{
		{"parsed by oauth2", &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "Invalid JWT", Body: []byte(`{"error":"other"}`), Response: resp("400 Bad Request", 400)},
			"invalid_grant", "Invalid JWT", "token endpoint refused: invalid_grant: Invalid JWT"},
		{"code alone", &oauth2.RetrieveError{ErrorCode: "invalid_client", Response: resp("401 Unauthorized", 401)},
			"invalid_client", "", "token endpoint refused: invalid_client"},
		{"body left unparsed", &oauth2.RetrieveError{Body: []byte(`{"error":"unauthorized_client","error_description":"Client is unauthorized"}`), Response: resp("401 Unauthorized", 401)},
			"unauthorized_client", "Client is unauthorized", "token endpoint refused: unauthorized_client: Client is unauthorized"},
		{"Google's envelope", &oauth2.RetrieveError{Body: []byte(envelope), Response: &http.Response{Status: "403 Forbidden", StatusCode: 403, Header: http.Header{}}},
			"403 Forbidden", "Permission 'iam.serviceAccounts.signJwt' denied", "token endpoint refused: 403 Forbidden: Permission 'iam.serviceAccounts.signJwt' denied"},
		{"nothing but a status", &oauth2.RetrieveError{Body: []byte("<html>"), Response: resp("502 Bad Gateway", 502)},
			"502 Bad Gateway", "", "token endpoint refused: 502 Bad Gateway"},
		{"no response", &oauth2.RetrieveError{Body: []byte("<html>")}, "", "", "token endpoint refused: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, desc, ok := TokenError(&TokenFailure{Err: tt.err})
			if !ok || code != tt.code || desc != tt.desc {
				t.Errorf("TokenError = %q, %q, %v; want %q, %q", code, desc, ok, tt.code, tt.desc)
			}
			if got := transportMessage(tt.err); got != tt.msg {
				t.Errorf("message %q, want %q", got, tt.msg)
			}
		})
	}
	if _, _, ok := TokenError(errors.New("x")); ok {
		t.Error("TokenError found a refusal in a plain error")
	}
}

// An Operation's error: a code outside google.rpc.Code, or OK, is UNKNOWN
// (and ambiguous), and its details are read whatever the code.
func TestOperationErrorStatus(t *testing.T) {
	retry := json.RawMessage(`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3s"}`)
	for _, code := range []int64{0, 99} {
		e := operationError("send", "a@x.org", "operations/1", code, "odd", []json.RawMessage{retry})
		if e.Status != "UNKNOWN" || e.Kind != KindAmbiguous || e.RetryAfter != 3*time.Second {
			t.Errorf("code %d: status %q, kind %v, retry after %v; want UNKNOWN, ambiguous, 3s", code, e.Status, e.Kind, e.RetryAfter)
		}
	}
}

// A quota limit value that is not a positive number is not a limit.
func TestQuotaLimitValue(t *testing.T) {
	for value, want := range map[string]int64{"60": 60, "0": 0, "-5": 0, "many": 0} {
		a := serve(t, 429, nil, quotaBody("ReadsPerMinutePerUser", value))
		_, err := a.Get(context.Background(), "a@example.com")
		if q := QuotaOf(err); q == nil || q.Value != want || q.Window != time.Minute {
			t.Errorf("quota_limit_value %q: %+v, want value %d per minute", value, q, want)
		}
	}
}

// apierror drops every detail of a body that also has Google's older
// "errors" list; the details are then read one by one, and the limit in
// the ErrorInfo is not lost.
func TestDetailsBesideLegacyErrors(t *testing.T) {
	var env map[string]map[string]any
	if err := json.Unmarshal([]byte(quotaBody("ReadsPerMinutePerUser", "60")), &env); err != nil {
		t.Fatal(err)
	}
	env["error"]["errors"] = []any{map[string]any{"reason": "rateLimitExceeded", "message": "Rate Limit Exceeded", "domain": "usageLimits"}}
	body, _ := json.Marshal(env)
	a := serve(t, 429, nil, string(body))
	_, err := a.Get(context.Background(), "a@example.com")
	var e *Error
	if !errors.As(err, &e) || e.Reason != "RATE_LIMIT_EXCEEDED" {
		t.Fatalf("reason: %v", err)
	}
	if q := QuotaOf(err); q == nil || q.Limit != "ReadsPerMinutePerUser" || q.Value != 60 || q.HelpURL != helpURL {
		t.Errorf("quota %+v, want the ErrorInfo's limit and the Help link", q)
	}
}

// The adapter reads an invitation, and logs the generated client's
// requests to the logger it is given.
func TestAdapterGetAndLog(t *testing.T) {
	a := serve(t, 200, nil, `{"name":"customers/C01/userinvitations/a@example.com","state":"INVITED","mailsSentCount":"2","updateTime":"2026-02-03T04:05:06Z"}`)
	inv, err := a.Get(context.Background(), "a@example.com")
	want := Invitation{Email: "a@example.com", State: StateInvited, MailsSentCount: 2, UpdateTime: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}
	if err != nil || inv != want {
		t.Fatalf("Get = %+v, %v; want %+v", inv, err, want)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"customers/C01/userinvitations/a@example.com","state":"INVITED"}`))
	}))
	t.Cleanup(hs.Close)
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(context.Background(), Config{Customer: "C01", Endpoint: hs.URL, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(context.Background(), "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "a@example.com") {
		t.Errorf("the logger given saw nothing of the request: %q", log.String())
	}
}

// An operation's response that does not decode gives the operation's name
// and no invitation, rather than a half-read one.
func TestOperationResponseUndecodable(t *testing.T) {
	a := serve(t, 200, nil, `{"name":"operations/8","done":true,"response":{"name":"customers/C01/userinvitations/a@example.com","state":"INVITED","mailsSentCount":"many"}}`)
	res, err := a.Send(context.Background(), "a@example.com")
	if err != nil || res.Operation != "operations/8" || res.Invitation != nil {
		t.Fatalf("Send = %+v, %v; want operations/8 without an invitation", res, err)
	}
}

// The transport keeps connections for hundreds of concurrent calls and
// gives up on a stuck handshake.
func TestNewTransport(t *testing.T) {
	tr := NewTransport()
	if tr.MaxIdleConnsPerHost != 512 || tr.IdleConnTimeout != 90*time.Second || tr.TLSHandshakeTimeout != 10*time.Second || tr.Proxy == nil {
		t.Errorf("transport: %d idle per host, idle timeout %v, handshake timeout %v", tr.MaxIdleConnsPerHost, tr.IdleConnTimeout, tr.TLSHandshakeTimeout)
	}
}

// List asks for what its options say and nothing more, follows the page
// tokens, and refuses an invitation it cannot read.
func TestListQueries(t *testing.T) {
	var queries []url.Values
	pages := map[string]string{
		"":   `{"userInvitations":[{"name":"customers/C01/userinvitations/a@example.com","state":"INVITED","mailsSentCount":"1"}],"nextPageToken":"t2"}`,
		"t2": `{"userInvitations":[{"name":"customers/C01/userinvitations/b@example.com","state":"ACCEPTED"}]}`,
		"t3": `{"userInvitations":[{"name":"garbage","state":"INVITED"}]}`,
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Query())
		w.Header().Set("Content-Type", "application/json")
		if len(queries) > 10 { // a listing that never ends: stop it
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(envelopeJSON(400, "INVALID_ARGUMENT", "runaway listing")))
			return
		}
		body := pages[r.URL.Query().Get("pageToken")]
		if strings.Contains(r.URL.Query().Get("filter"), "broken") {
			body = pages["t3"]
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(hs.Close)
	a, err := New(context.Background(), Config{Customer: "C01", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	list := func(opts ListOptions) ([]string, error) {
		var got []string
		err := a.List(context.Background(), opts, func(invs []Invitation) error {
			for _, inv := range invs {
				got = append(got, inv.Email+" "+string(inv.State))
			}
			return nil
		})
		return got, err
	}
	for size, want := range map[int]string{0: "200", -1: "200", 1: "1", 200: "200", 201: "200", 10_000: "200"} {
		queries = nil
		got, err := list(ListOptions{PageSize: size})
		if err != nil || strings.Join(got, ", ") != "a@example.com INVITED, b@example.com ACCEPTED" {
			t.Fatalf("page size %d: %v, %v", size, got, err)
		}
		if len(queries) != 2 || queries[0].Get("pageSize") != want || queries[1].Get("pageToken") != "t2" || queries[1].Get("pageSize") != want {
			t.Errorf("page size %d: queries %v, want pageSize %s and the second page's token", size, queries, want)
		}
		for _, q := range queries {
			for _, k := range []string{"filter", "orderBy"} {
				if _, set := q[k]; set {
					t.Errorf("page size %d: %s sent without being asked for: %v", size, k, q)
				}
			}
		}
		if _, set := queries[0]["pageToken"]; set {
			t.Errorf("the first page was asked with a token: %v", queries[0])
		}
	}
	queries = nil
	if _, err := list(ListOptions{States: []State{StateInvited, StateDeclined}, Order: Order{Field: "update_time", Desc: true}}); err != nil {
		t.Fatal(err)
	}
	if q := queries[0]; q.Get("filter") != "state=='invited' || state=='declined'" || q.Get("orderBy") != "update_time desc" {
		t.Errorf("query %v", q)
	}
	err = a.List(context.Background(), ListOptions{States: []State{"BROKEN"}}, func([]Invitation) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"garbage"`) {
		t.Errorf("a page with an unreadable invitation: %v", err)
	}
}

// An HTTP error keeps the API's message, or the status text when the body
// had none.
func TestErrorMessage(t *testing.T) {
	_, err := serve(t, 400, nil, envelopeJSON(400, "FAILED_PRECONDITION", "already accepted")).Get(context.Background(), "a@example.com")
	var e *Error
	if !errors.As(err, &e) || e.Message != "already accepted" {
		t.Errorf("message %q, want the API's", e.Message)
	}
	_, err = serve(t, 502, nil, "<html>Bad Gateway</html>").Get(context.Background(), "a@example.com")
	if !errors.As(err, &e) || e.Message != "Bad Gateway" {
		t.Errorf("message %q, want the status text", e.Message)
	}
}
