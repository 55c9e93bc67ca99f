package invitations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/invitectl/invitectl/pkg/pace"
	"golang.org/x/oauth2"
)

// serve answers every call with one canned response.
func serve(t *testing.T, code int, header http.Header, body string) *Adapter {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(hs.Close)
	a, err := New(context.Background(), Config{Customer: "C01", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func envelopeJSON(code int, status, msg string, details ...any) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status, "details": details}})
	return string(b)
}

func TestClassifyHTTP(t *testing.T) {
	errorInfo := func(reason string) any {
		return map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
	}
	retryInfo := map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.500s"}
	cases := []struct {
		name       string
		code       int
		header     http.Header
		body       string
		kind       Kind
		retryAfter time.Duration
		reason     string
	}{
		{"429", 429, nil, envelopeJSON(429, "RESOURCE_EXHAUSTED", "Quota exceeded", errorInfo("RATE_LIMIT_EXCEEDED")), KindQuota, 0, "RATE_LIMIT_EXCEEDED"},
		{"429 retry-after seconds", 429, http.Header{"Retry-After": {"3"}}, envelopeJSON(429, "RESOURCE_EXHAUSTED", "slow down"), KindQuota, 3 * time.Second, ""},
		{"429 retry info", 429, nil, envelopeJSON(429, "RESOURCE_EXHAUSTED", "slow down", retryInfo), KindQuota, 2500 * time.Millisecond, ""},
		{"403 rate limit reason", 403, nil, envelopeJSON(403, "PERMISSION_DENIED", "Rate Limit Exceeded", errorInfo("RATE_LIMIT_EXCEEDED")), KindQuota, 0, "RATE_LIMIT_EXCEEDED"},
		{"403 legacy rate limit", 403, nil, `{"error":{"code":403,"message":"User Rate Limit Exceeded","errors":[{"reason":"userRateLimitExceeded"}]}}`, KindQuota, 0, "userRateLimitExceeded"},
		{"403 permission", 403, nil, envelopeJSON(403, "PERMISSION_DENIED", "Not authorized"), KindDenied, 0, ""},
		{"403 service disabled", 403, nil, envelopeJSON(403, "PERMISSION_DENIED", "Cloud Identity API has not been used", errorInfo("SERVICE_DISABLED")), KindAuth, 0, "SERVICE_DISABLED"},
		{"403 scopes", 403, nil, envelopeJSON(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", errorInfo("ACCESS_TOKEN_SCOPE_INSUFFICIENT")), KindAuth, 0, "ACCESS_TOKEN_SCOPE_INSUFFICIENT"},
		{"401", 401, nil, envelopeJSON(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), KindAuth, 0, ""},
		{"404", 404, nil, envelopeJSON(404, "NOT_FOUND", "not found"), KindNotFound, 0, ""},
		{"precondition", 400, nil, envelopeJSON(400, "FAILED_PRECONDITION", "already accepted"), KindPrecondition, 0, ""},
		{"invalid", 400, nil, envelopeJSON(400, "INVALID_ARGUMENT", "bad filter"), KindInvalid, 0, ""},
		{"500", 500, nil, envelopeJSON(500, "INTERNAL", "oops"), KindAmbiguous, 0, ""},
		{"502 html", 502, nil, "<html>Bad Gateway</html>", KindAmbiguous, 0, ""},
		{"503 date", 503, http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, envelopeJSON(503, "UNAVAILABLE", "later"), KindAmbiguous, 59 * time.Minute, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := serve(t, tc.code, tc.header, tc.body)
			_, err := a.Send(context.Background(), "a@example.com")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *Error", err)
			}
			if e.Kind != tc.kind || e.HTTPCode != tc.code || e.Reason != tc.reason || e.Method != "send" || e.Email != "a@example.com" {
				t.Fatalf("got %+v, want kind %v reason %q", e, tc.kind, tc.reason)
			}
			if tc.retryAfter >= time.Minute {
				if e.RetryAfter < tc.retryAfter {
					t.Fatalf("RetryAfter %v, want at least %v", e.RetryAfter, tc.retryAfter)
				}
			} else if e.RetryAfter != tc.retryAfter {
				t.Fatalf("RetryAfter %v, want %v", e.RetryAfter, tc.retryAfter)
			}
			if RetryAfter(err) != e.RetryAfter || KindOf(fmt.Errorf("wrapped: %w", err)) != tc.kind {
				t.Fatal("helpers disagree with the error")
			}
		})
	}
}

func TestClassifyOperation(t *testing.T) {
	cases := []struct {
		body string
		kind Kind
	}{
		{`{"name":"operations/1","done":true,"error":{"code":9,"message":"state changed"}}`, KindPrecondition},
		{`{"name":"operations/2","done":true,"error":{"code":8,"message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"}]}}`, KindQuota},
		{`{"name":"operations/3","done":true,"error":{"code":14,"message":"unavailable"}}`, KindAmbiguous},
		{`{"name":"operations/4","done":true,"error":{"code":5,"message":"gone"}}`, KindNotFound},
		{`{"name":"operations/5","done":true,"error":{"code":7,"message":"denied"}}`, KindDenied},
		{`{"name":"operations/6"}`, KindAmbiguous},
	}
	for _, tc := range cases {
		a := serve(t, 200, nil, tc.body)
		res, err := a.Cancel(context.Background(), "a@example.com")
		var e *Error
		if !errors.As(err, &e) || e.Kind != tc.kind || e.Operation == "" || res.Operation != e.Operation {
			t.Errorf("%s: %v (%+v), want kind %v with the operation name", tc.body, err, e, tc.kind)
		}
	}
	a := serve(t, 200, nil, `{"name":"operations/7","done":true,"response":{"@type":"type.googleapis.com/google.apps.cloudidentity.v1.UserInvitation","name":"customers/C01/userinvitations/a@example.com","state":"INVITED","mailsSentCount":"4","updateTime":"2026-02-03T04:05:06.789Z"}}`)
	res, err := a.Send(context.Background(), "a@example.com")
	want := Invitation{Email: "a@example.com", State: StateInvited, MailsSentCount: 4, UpdateTime: time.Date(2026, 2, 3, 4, 5, 6, 789e6, time.UTC)}
	if err != nil || res.Operation != "operations/7" || res.Invitation == nil || *res.Invitation != want {
		t.Fatalf("done operation: %+v, %v", res, err)
	}
}

func TestClassifyTransport(t *testing.T) {
	cases := []struct {
		err  error
		kind Kind
	}{
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, KindUnavailable},
		{&url.Error{Op: "Post", Err: &net.DNSError{Err: "no such host", Name: "x"}}, KindUnavailable},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, KindAmbiguous},
		{&url.Error{Op: "Post", Err: io.EOF}, KindAmbiguous},
		{&url.Error{Op: "Post", Err: context.DeadlineExceeded}, KindAmbiguous},
		{context.Canceled, KindCanceled},
		{&oauth2.RetrieveError{ErrorCode: "invalid_grant", Response: &http.Response{StatusCode: 400}}, KindAuth},
		{&oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}, KindUnavailable},
		{errors.New("something else"), KindUnknown},
	}
	for _, tc := range cases {
		if got := KindOf(tc.err); got != tc.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.kind)
		}
	}
}

func TestRefusedConnectionIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a, err := New(context.Background(), Config{Customer: "C01", Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Send(context.Background(), "a@example.com")
	if !IsRetryable(err) || IsAmbiguous(err) {
		t.Fatalf("refused connection: %v (kind %v), want retryable and not ambiguous", err, KindOf(err))
	}
}

func TestValidation(t *testing.T) {
	for _, id := range []string{"", "03abc", "C", "C03-abc", "c03abc"} {
		if _, err := New(context.Background(), Config{Customer: id}); err == nil {
			t.Errorf("customer %q accepted", id)
		}
	}
	if _, err := New(context.Background(), Config{Customer: "C01", APIVersion: "v2"}); err == nil {
		t.Error("API version v2 accepted")
	}
	calls := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer hs.Close()
	a, err := New(context.Background(), Config{Customer: "C01", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"", "nobody", "a b@example.com", "a@b@example.com", "x/y@example.com"} {
		if _, err := a.Send(context.Background(), email); err == nil {
			t.Errorf("address %q accepted", email)
		}
		if _, err := a.IsInvitable(context.Background(), email); err == nil {
			t.Errorf("address %q accepted", email)
		}
	}
	if calls != 0 {
		t.Fatalf("%d calls reached the server with invalid addresses", calls)
	}
}

func TestParseStateAndOrder(t *testing.T) {
	for in, want := range map[string]State{"invited": StateInvited, "NOT_YET_SENT": StateNotYetSent, " Declined ": StateDeclined} {
		if got, err := ParseState(in); err != nil || got != want {
			t.Errorf("ParseState(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseState("pending"); err == nil {
		t.Error("ParseState(pending) accepted")
	}
	for in, want := range map[string]string{"": "email asc", "email": "email asc", "update_time:desc": "update_time desc", "updateTime asc": "update_time asc"} {
		if got, err := ParseOrder(in); err != nil || got.String() != want {
			t.Errorf("ParseOrder(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"name", "email:up"} {
		if _, err := ParseOrder(in); err == nil {
			t.Errorf("ParseOrder(%q) accepted", in)
		}
	}
	f := ListOptions{States: []State{StateInvited, StateNotYetSent}}.Filter()
	if f != "state=='invited' || state=='not_yet_sent'" {
		t.Errorf("Filter() = %q", f)
	}
}

func TestVerdicts(t *testing.T) {
	cases := []struct {
		err                        error
		read, write, quota, paused bool
	}{
		{&Error{Kind: KindQuota, RetryAfter: time.Second}, true, true, true, true},
		{&Error{Kind: KindUnavailable, RetryAfter: time.Second}, true, true, false, true},
		{&Error{Kind: KindAmbiguous}, true, false, false, false},
		{&Error{Kind: KindCanceled}, false, false, false, false},
		{&Error{Kind: KindNotFound}, false, false, false, false},
		{&Error{Kind: KindAuth}, false, false, false, false},
		{&Error{Kind: KindDenied}, false, false, false, false},
		{&Error{Kind: KindPrecondition}, false, false, false, false},
		{&Error{Kind: KindInvalid}, false, false, false, false},
	}
	for _, tc := range cases {
		r, w := ReadVerdict(tc.err), WriteVerdict(tc.err)
		for _, v := range []struct {
			name  string
			got   pace.Verdict
			retry bool
		}{{"read", r, tc.read}, {"write", w, tc.write}} {
			if v.got.Retry != v.retry || v.got.Quota != (tc.quota && v.retry) || (v.got.After == time.Second) != (tc.paused && v.retry) {
				t.Errorf("%s verdict of %v = %+v, want retry %v quota %v", v.name, KindOf(tc.err), v.got, v.retry, tc.quota)
			}
		}
	}
}

type failingSource struct{ err error }

func (f failingSource) Token() (*oauth2.Token, error) { return nil, f.err }

func TestTokenFailures(t *testing.T) {
	calls := 0
	hs := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	defer hs.Close()
	cases := []struct {
		err  error
		kind Kind
	}{
		{errors.New("private key should be a PEM or plain PKCS1 or PKCS8"), KindAuth},
		{&oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, Body: []byte(`{"error":"invalid_grant"}`)}, KindAuth},
		{&oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}, KindUnavailable},
		{&url.Error{Op: "Post", URL: "https://oauth2.googleapis.com/token", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, KindUnavailable},
	}
	for _, tc := range cases {
		a, err := New(context.Background(), Config{Customer: "C01", Endpoint: hs.URL, TokenSource: failingSource{tc.err}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Send(context.Background(), "a@example.com")
		if KindOf(err) != tc.kind {
			t.Errorf("token error %v: kind %v, want %v", tc.err, KindOf(err), tc.kind)
		}
	}
	if calls != 0 {
		t.Fatalf("%d requests reached the API without a token", calls)
	}
}

// quotaBody is Google's 429 envelope as issue 9 quotes it: ErrorInfo with
// the quota metadata, and a Help link.
func quotaBody(limit, value string) string {
	return envelopeJSON(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests' and limit '"+limit+"' of service 'cloudidentity.googleapis.com'.",
		map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
			"metadata": map[string]any{"quota_metric": "cloudidentity.googleapis.com/read_requests", "quota_limit": limit,
				"quota_limit_value": value, "quota_location": "global", "consumer": "projects/100000000001", "service": "cloudidentity.googleapis.com"}},
		map[string]any{"@type": "type.googleapis.com/google.rpc.Help",
			"links": []any{map[string]any{"description": "Request a higher quota limit.", "url": helpURL}}})
}

const helpURL = "https://cloud.google.com/docs/quotas/help/request_increase"

// Every shape a quota error takes is KindQuota, retryable, and says what it
// knows of its limit.
func TestQuotaShapes(t *testing.T) {
	const metric = "cloudidentity.googleapis.com/read_requests"
	perMinute := &QuotaInfo{Metric: metric, Limit: "ReadsPerMinutePerUser", Value: 60, Window: time.Minute, HelpURL: helpURL}
	legacy := func(code int, reason string) string {
		return fmt.Sprintf(`{"error":{"code":%d,"message":"Limit Exceeded","errors":[{"message":"Limit Exceeded","domain":"usageLimits","reason":%q}]}}`, code, reason)
	}
	cases := []struct {
		name       string
		code       int
		header     http.Header
		body       string
		reason     string
		quota      *QuotaInfo
		retryAfter time.Duration
	}{
		{name: "per minute, issue 9's envelope", code: 429, body: quotaBody("ReadsPerMinutePerUser", "60"), reason: "RATE_LIMIT_EXCEEDED", quota: perMinute},
		{name: "per 100 seconds", code: 429, body: quotaBody("RequestsPer100SecondsPerUser", "100"), reason: "RATE_LIMIT_EXCEEDED",
			quota: &QuotaInfo{Metric: metric, Limit: "RequestsPer100SecondsPerUser", Value: 100, Window: 100 * time.Second, HelpURL: helpURL}},
		{name: "per day", code: 429, body: quotaBody("RequestsPerDayPerProject", "10000"), reason: "RATE_LIMIT_EXCEEDED",
			quota: &QuotaInfo{Metric: metric, Limit: "RequestsPerDayPerProject", Value: 10000, Window: 24 * time.Hour, HelpURL: helpURL}},
		{name: "bare 429, empty body", code: 429},
		{name: "bare 429, HTML body", code: 429, body: "<html><body>Too Many Requests</body></html>"},
		{name: "envelope without details", code: 429, body: envelopeJSON(429, "RESOURCE_EXHAUSTED", "Quota exceeded")},
		{name: "RESOURCE_EXHAUSTED under another code", code: 400, body: envelopeJSON(400, "RESOURCE_EXHAUSTED", "Quota exceeded")},
		{name: "retry-after header", code: 429, header: http.Header{"Retry-After": {"7"}}, body: quotaBody("ReadsPerMinutePerUser", "60"),
			reason: "RATE_LIMIT_EXCEEDED", quota: perMinute, retryAfter: 7 * time.Second},
		{
			// apierror drops every detail when the body also has the older
			// errors list; they are read one by one instead.
			name: "details beside the older errors list", code: 429,
			body:   strings.Replace(quotaBody("ReadsPerMinutePerUser", "60"), `"code":429`, `"code":429,"errors":[{"message":"Quota exceeded","domain":"usageLimits","reason":"rateLimitExceeded"}]`, 1),
			reason: "RATE_LIMIT_EXCEEDED", quota: perMinute,
		},
		{
			name: "a detail of an unknown type among them", code: 429,
			body: envelopeJSON(429, "RESOURCE_EXHAUSTED", "Quota exceeded",
				map[string]any{"@type": "type.googleapis.com/google.example.Unknown", "x": 1},
				map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
					"metadata": map[string]any{"quota_limit": "WritesPerMinutePerUser", "quota_limit_value": "30"}}),
			reason: "RATE_LIMIT_EXCEEDED", quota: &QuotaInfo{Limit: "WritesPerMinutePerUser", Value: 30, Window: time.Minute},
		},
		{
			name: "QuotaFailure detail", code: 429,
			body: envelopeJSON(429, "RESOURCE_EXHAUSTED", "Quota exceeded", map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
				"violations": []any{map[string]any{"subject": "project:1", "quotaMetric": metric, "quotaId": "ReadRequestsPerMinutePerProject", "quotaValue": "600"}}}),
			quota: &QuotaInfo{Metric: metric, Limit: "ReadRequestsPerMinutePerProject", Value: 600, Window: time.Minute},
		},
		{name: "RESOURCE_QUOTA_EXCEEDED", code: 403, body: envelopeJSON(403, "PERMISSION_DENIED", "Quota exceeded",
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RESOURCE_QUOTA_EXCEEDED"}), reason: "RESOURCE_QUOTA_EXCEEDED"},
		{name: "older form: dailyLimitExceeded", code: 403, body: legacy(403, "dailyLimitExceeded"), reason: "dailyLimitExceeded", quota: &QuotaInfo{Window: 24 * time.Hour}},
		{name: "older form: userRateLimitExceeded", code: 403, body: legacy(403, "userRateLimitExceeded"), reason: "userRateLimitExceeded"},
		{name: "older form: rateLimitExceeded", code: 403, body: legacy(403, "rateLimitExceeded"), reason: "rateLimitExceeded"},
		{name: "older form: quotaExceeded", code: 403, body: legacy(403, "quotaExceeded"), reason: "quotaExceeded"},
		{name: "older form on a 429", code: 429, body: legacy(429, "rateLimitExceeded"), reason: "rateLimitExceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := serve(t, tc.code, tc.header, tc.body)
			_, err := a.IsInvitable(context.Background(), "a@example.com")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *Error", err)
			}
			if e.Kind != KindQuota || !IsQuota(err) || !IsRetryable(err) || IsAmbiguous(err) {
				t.Errorf("kind %v (retryable %v), want quota and retryable", e.Kind, IsRetryable(err))
			}
			if e.HTTPCode != tc.code || e.Reason != tc.reason || e.RetryAfter != tc.retryAfter {
				t.Errorf("code %d reason %q retry-after %v, want %d %q %v", e.HTTPCode, e.Reason, e.RetryAfter, tc.code, tc.reason, tc.retryAfter)
			}
			if got := QuotaOf(fmt.Errorf("wrapped: %w", err)); !reflect.DeepEqual(got, tc.quota) {
				t.Errorf("quota %+v, want %+v", got, tc.quota)
			}
			var lim *pace.Limit
			if q := tc.quota; q != nil {
				lim = &pace.Limit{Metric: q.Metric, Name: q.Limit, Value: q.Value, Window: q.Window, Help: q.HelpURL}
			}
			for name, verdict := range map[string]func(error) pace.Verdict{"ReadVerdict": ReadVerdict, "WriteVerdict": WriteVerdict} {
				if v := verdict(err); !v.Retry || !v.Quota || v.After != tc.retryAfter || !reflect.DeepEqual(v.Limit, lim) {
					t.Errorf("%s = %+v (limit %+v), want a quota retry teaching %+v", name, v, v.Limit, lim)
				}
			}
		})
	}
}

// An Operation's error is a google.rpc.Status: its details are read the
// same way.
func TestQuotaInOperation(t *testing.T) {
	body := `{"name":"operations/1","done":true,"error":{"code":8,"message":"Quota exceeded","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","metadata":{"quota_metric":"cloudidentity.googleapis.com/write_requests","quota_limit":"WritesPerMinutePerUser","quota_limit_value":"30"}},` +
		`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"},` +
		`{"@type":"type.googleapis.com/google.rpc.Help","links":[{"url":"` + helpURL + `"}]}]}}`
	_, err := serve(t, 200, nil, body).Send(context.Background(), "a@example.com")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindQuota || e.Status != "RESOURCE_EXHAUSTED" || e.Reason != "RATE_LIMIT_EXCEEDED" || e.RetryAfter != 1500*time.Millisecond {
		t.Fatalf("got %+v", e)
	}
	want := &QuotaInfo{Metric: "cloudidentity.googleapis.com/write_requests", Limit: "WritesPerMinutePerUser", Value: 30, Window: time.Minute, HelpURL: helpURL}
	if !reflect.DeepEqual(e.Quota, want) {
		t.Errorf("quota %+v, want %+v", e.Quota, want)
	}
}

// A 429 from the token endpoint means no API call was made: retry, and it
// is not an authentication failure.
func TestTokenEndpointQuota(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request reached the API without a token")
	}))
	defer hs.Close()
	for _, body := range []string{"", `{"error":"rate_limit_exceeded"}`, "<html>Too Many Requests</html>"} {
		rerr := &oauth2.RetrieveError{Response: &http.Response{StatusCode: 429, Status: "429 Too Many Requests"}, Body: []byte(body)}
		a, err := New(context.Background(), Config{Customer: "C01", Endpoint: hs.URL, TokenSource: failingSource{rerr}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Get(context.Background(), "a@example.com")
		if !IsRetryable(err) || IsAuth(err) || IsAmbiguous(err) {
			t.Errorf("token endpoint 429 (body %q): %v kind %v, want retryable", body, err, KindOf(err))
		}
		if v := ReadVerdict(err); !v.Retry {
			t.Errorf("token endpoint 429: verdict %+v, want a retry", v)
		}
	}
}

func TestWindowOf(t *testing.T) {
	for name, want := range map[string]time.Duration{
		"ReadsPerMinutePerUser":             time.Minute,
		"defaultPerMinutePerProject":        time.Minute,
		"Read requests per minute per user": time.Minute,
		"RequestsPer100SecondsPerUser":      100 * time.Second,
		"requests-per-100-seconds":          100 * time.Second,
		"RequestsPerDayPerProject":          24 * time.Hour,
		"QueriesPerHour":                    time.Hour,
		"WritesPerSecond":                   time.Second,
		"VMsPerProject":                     0,
		"":                                  0,
	} {
		if got := windowOf(name); got != want {
			t.Errorf("windowOf(%q) = %v, want %v", name, got, want)
		}
	}
}

// handlerTransport serves requests with a handler, in memory: no network,
// so that a synctest bubble's clock runs the quota's minutes.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// rollingQuota answers isInvitableUser under a rolling quota of limit calls
// per minute; over it, issue 9's 429 envelope (details) or a bare one.
type rollingQuota struct {
	limit             int
	details           bool
	mu                sync.Mutex
	taken             []time.Time
	accepted, refused int
}

func (q *rollingQuota) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for len(q.taken) > 0 && !q.taken[0].After(now.Add(-time.Minute)) {
		q.taken = q.taken[1:]
	}
	w.Header().Set("Content-Type", "application/json")
	if len(q.taken) >= q.limit {
		q.refused++
		w.WriteHeader(429)
		body := envelopeJSON(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
		if q.details {
			body = quotaBody("ReadsPerMinutePerUser", strconv.Itoa(q.limit))
		}
		io.WriteString(w, body)
		return
	}
	q.taken = append(q.taken, now)
	q.accepted++
	io.WriteString(w, `{"isInvitableUser":true}`)
}

// The pacer learns from what the adapter reads of the envelope: with the
// details, Google's limit, its unit and its Help link; without, what the
// window held. Either way it settles under the limit with few refusals.
func TestPacerLearnsFromTheEnvelope(t *testing.T) {
	for _, details := range []bool{true, false} {
		t.Run(fmt.Sprint("details ", details), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := &rollingQuota{limit: 60, details: details}
				a, err := New(context.Background(), Config{Customer: "C01", Endpoint: "http://api.test", Transport: handlerTransport{q}})
				if err != nil {
					t.Fatal(err)
				}
				p := pace.New(pace.Config{ReadQPS: 25, WriteQPS: 10})
				w := pace.NewWindow(p.Limiter(pace.Read), 16)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				var wg sync.WaitGroup
				for range 16 {
					wg.Go(func() {
						for ctx.Err() == nil {
							w.Do(ctx, pace.Policy{}, ReadVerdict, func(ctx context.Context) error {
								_, err := a.IsInvitable(ctx, "a@example.com")
								return err
							})
						}
					})
				}
				wg.Wait()
				q.mu.Lock()
				defer q.mu.Unlock()
				t.Logf("%d accepted, %d refused: %s", q.accepted, q.refused, p.Describe())
				if share := float64(q.accepted) / (5 * 60); share < 0.85 {
					t.Errorf("%.2f of the allowed calls", share)
				}
				if share := float64(q.refused) / float64(q.accepted+q.refused); share > 0.05 {
					t.Errorf("%.1f%% of calls refused", 100*share)
				}
				want, help := "about 60 requests per minute for reads", ""
				if details {
					want, help = "60 requests per minute (ReadsPerMinutePerUser) for reads", helpURL
				}
				if got := p.Describe(); !strings.HasPrefix(got, want) || p.Help() != help {
					t.Errorf("Describe() = %q, Help() = %q; want %q..., %q", got, p.Help(), want, help)
				}
			})
		})
	}
}
