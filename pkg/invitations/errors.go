package invitations

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/googleapis/gax-go/v2/apierror"
	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// Kind says what an API error means for the caller.
type Kind int

// The kinds of error. Only Unavailable and Quota promise that nothing
// happened; Ambiguous and Canceled say a mutating call may have taken effect.
const (
	KindUnknown      Kind = iota
	KindQuota             // 429, RESOURCE_EXHAUSTED, a 403 rate-limit reason: nothing happened, retry later
	KindUnavailable       // the request never reached the API (refused connection, DNS): retry
	KindAmbiguous         // 5xx, timeout, reset: a send or cancel may have taken effect
	KindCanceled          // the caller gave up while the request may have been in flight
	KindPrecondition      // the invitation's state forbids the call
	KindNotFound          // no such invitation visible to the API
	KindAuth              // 401, a 403 naming a credential problem, token endpoint refusals
	KindInvalid           // the request was malformed (400 INVALID_ARGUMENT)
	// KindDenied is a bare 403 PERMISSION_DENIED. Google answers it both for
	// credentials that cannot act on the customer (a subject that is not an
	// administrator, another customer's ID) and for one address it refuses
	// while every other call succeeds; only a probe with the same token
	// tells the two apart (see Judge).
	KindDenied
)

var kindNames = map[Kind]string{
	KindUnknown: "unknown", KindQuota: "quota", KindUnavailable: "unavailable",
	KindAmbiguous: "ambiguous", KindCanceled: "canceled", KindPrecondition: "precondition",
	KindNotFound: "not_found", KindAuth: "auth", KindInvalid: "invalid", KindDenied: "denied",
}

func (k Kind) String() string { return kindNames[k] }

// Error is every error the adapter returns for a call.
type Error struct {
	Kind       Kind
	Method     string // isInvitableUser, get, list, send, cancel
	Email      string
	HTTPCode   int           // 0 when no response arrived
	Status     string        // canonical status such as RESOURCE_EXHAUSTED
	Reason     string        // ErrorInfo reason or legacy errors[].reason
	Message    string        // the API's message, or the transport's
	RetryAfter time.Duration // from Retry-After or a RetryInfo detail
	Quota      *QuotaInfo    // what a quota error says about its limit; nil when nothing
	Operation  string        // the operation name when the error came in an Operation
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	if e.Email != "" {
		b.WriteString(" " + e.Email)
	}
	b.WriteString(": ")
	if e.HTTPCode != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.HTTPCode)
	}
	if e.Status != "" {
		b.WriteString(e.Status + " ")
	}
	if e.Reason != "" && e.Reason != e.Status {
		b.WriteString("(" + e.Reason + ") ")
	}
	b.WriteString(e.Message)
	return strings.TrimSpace(b.String())
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf classifies any error; an error that did not come from the adapter is
// classified from its cause.
func KindOf(err error) Kind {
	if err == nil {
		return KindUnknown
	}
	var d *DeniedError
	if errors.As(err, &d) {
		return KindAuth
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return classifyTransport(err)
}

// IsQuota reports a quota rejection: nothing happened, slow down.
func IsQuota(err error) bool { return KindOf(err) == KindQuota }

// IsRetryable reports that nothing happened and the same call may be repeated.
func IsRetryable(err error) bool {
	k := KindOf(err)
	return k == KindQuota || k == KindUnavailable
}

// IsAmbiguous reports that a mutating call may have taken effect.
func IsAmbiguous(err error) bool {
	k := KindOf(err)
	return k == KindAmbiguous || k == KindCanceled
}

// IsPrecondition reports that the invitation's state forbids the call.
func IsPrecondition(err error) bool { return KindOf(err) == KindPrecondition }

// IsNotFound reports that the API knows no such invitation (or cannot show it yet).
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsAuth reports an authentication or authorisation failure.
func IsAuth(err error) bool { return KindOf(err) == KindAuth }

// IsDenied reports a bare 403: the credentials' failure or one address's
// refusal, which only a probe tells apart (see Judge).
func IsDenied(err error) bool { return KindOf(err) == KindDenied }

// RetryAfter returns the delay the API asked for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// wrap turns whatever the generated client returned into an *Error.
func wrap(ctx context.Context, method, email string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Method: method, Email: email, Err: err}
	var gerr *googleapi.Error
	switch {
	case errors.As(err, &gerr):
		fillFromHTTP(e, gerr)
	case ctx.Err() != nil:
		e.Kind = KindCanceled
		e.Message = ctx.Err().Error()
	default:
		e.Kind = classifyTransport(err)
		e.Message = transportMessage(err)
	}
	return e
}

func fillFromHTTP(e *Error, gerr *googleapi.Error) {
	e.HTTPCode = gerr.Code
	e.Message = gerr.Message
	e.Status = bodyStatus(gerr.Body)
	d := httpDetails(gerr)
	e.Reason, e.RetryAfter = d.Reason(), retryDelay(d)
	if e.Reason == "" && len(gerr.Errors) > 0 {
		e.Reason = gerr.Errors[0].Reason // Google's older form
	}
	if e.Message == "" {
		e.Message = http.StatusText(gerr.Code)
	}
	if v := parseRetryAfter(gerr.Header.Get("Retry-After"), time.Now()); v > e.RetryAfter {
		e.RetryAfter = v
	}
	e.Kind = kindFromHTTP(gerr.Code, e.Status, e.Reason)
	if e.Kind == KindQuota {
		e.Quota = quotaInfo(d, e.Reason)
	}
}

// bodyStatus is the canonical status of Google's envelope ("status":
// "FAILED_PRECONDITION"). Neither googleapi.Error nor apierror keeps it
// (apierror maps the HTTP code instead, and 400 stands for several
// statuses), so this one field is read here.
func bodyStatus(body string) string {
	var env struct {
		Error struct {
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(body), &env) != nil {
		return ""
	}
	return env.Error.Status
}

// httpDetails parses the google.rpc details of an HTTP error with apierror.
// apierror drops every detail when the body has anything its schema does
// not know: the older "errors" list that many Google APIs still send beside
// "details", or a detail of an unregistered type. Then the details that
// googleapi decoded are read one by one. Never nil.
func httpDetails(gerr *googleapi.Error) *apierror.APIError {
	ae, ok := apierror.FromError(gerr)
	if ok && (hasDetails(ae.Details()) || len(gerr.Details) == 0) {
		return ae
	}
	raw := make([]json.RawMessage, 0, len(gerr.Details))
	for _, d := range gerr.Details {
		if b, err := json.Marshal(d); err == nil {
			raw = append(raw, b)
		}
	}
	return statusDetails(int32(codes.Unknown), gerr.Message, raw)
}

func hasDetails(d apierror.ErrDetails) bool {
	return d.ErrorInfo != nil || d.RetryInfo != nil || d.Help != nil || d.QuotaFailure != nil
}

// statusDetails parses a google.rpc.Status given as its code, message and
// JSON details (an Operation's error, or an HTTP error's details) with
// apierror. A detail that does not parse, or whose type is unknown, is
// skipped rather than losing the others. Never nil.
func statusDetails(code int32, message string, details []json.RawMessage) *apierror.APIError {
	st := &spb.Status{Code: code, Message: message}
	if st.Code == 0 {
		st.Code = int32(codes.Unknown) // an OK status is no error
	}
	for _, raw := range details {
		var a anypb.Any
		if protojson.Unmarshal(raw, &a) == nil {
			st.Details = append(st.Details, &a)
		}
	}
	if ae, ok := apierror.FromError(status.ErrorProto(st)); ok {
		return ae
	}
	return &apierror.APIError{}
}

// retryDelay is the RetryInfo detail's delay, or 0.
func retryDelay(ae *apierror.APIError) time.Duration {
	if ri := ae.Details().RetryInfo; ri != nil {
		if d := ri.GetRetryDelay().AsDuration(); d > 0 {
			return d
		}
	}
	return 0
}

func kindFromHTTP(code int, status, reason string) Kind {
	if isRateReason(reason) || status == "RESOURCE_EXHAUSTED" || code == http.StatusTooManyRequests {
		return KindQuota
	}
	switch {
	case code == http.StatusForbidden && reason == "":
		return KindDenied
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return KindAuth
	case code == http.StatusNotFound:
		return KindNotFound
	case status == "FAILED_PRECONDITION", status == "ABORTED", status == "ALREADY_EXISTS",
		code == http.StatusConflict, code == http.StatusPreconditionFailed:
		return KindPrecondition
	case code == http.StatusBadRequest:
		return KindInvalid
	case code >= 500:
		return KindAmbiguous
	}
	return KindUnknown
}

// isRateReason reports a reason that means "over quota": the ErrorInfo
// reasons of google/api/error_reason.proto, and the errors[].reason values
// of Google's older error form (dailyLimitExceeded, userRateLimitExceeded,
// rateLimitExceeded, quotaExceeded), which some APIs answer with a 403.
func isRateReason(r string) bool {
	switch r {
	case "RATE_LIMIT_EXCEEDED", "RESOURCE_QUOTA_EXCEEDED", "RESOURCE_PROJECT_INVALID_QUOTA",
		"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded":
		return true
	}
	return false
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// classifyTransport classifies an error raised before or instead of an HTTP
// response.
func classifyTransport(err error) Kind {
	var tf *TokenFailure
	if errors.As(err, &tf) {
		return classifyToken(tf.Err)
	}
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		return classifyToken(rerr)
	}
	if errors.Is(err, context.Canceled) {
		return KindCanceled
	}
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial") {
		return KindUnavailable
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return KindUnavailable
	}
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return KindAmbiguous
	}
	return KindUnknown
}

// classifyToken classifies a failure to get a token: the API request never
// left, so a transient failure is unavailable (retry) and anything else is
// an authentication problem.
func classifyToken(err error) Kind {
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		if rerr.Response != nil && (rerr.Response.StatusCode >= 500 || rerr.Response.StatusCode == http.StatusTooManyRequests) {
			return KindUnavailable
		}
		return KindAuth
	}
	switch classifyTransport(err) {
	case KindUnavailable, KindAmbiguous:
		return KindUnavailable // the token endpoint was unreachable or slow
	case KindCanceled:
		return KindCanceled
	}
	return KindAuth // a malformed key, unusable credentials
}

func transportMessage(err error) string {
	if code, desc, ok := TokenError(err); ok {
		msg := code
		if desc != "" {
			msg += ": " + desc
		}
		return "token endpoint refused: " + msg
	}
	return err.Error()
}

// TokenError finds a token endpoint's refusal in err: its OAuth error code
// (invalid_grant, unauthorized_client...) and description, read from the
// response body when the oauth2 package left them unparsed.
func TokenError(err error) (code, desc string, ok bool) {
	var rerr *oauth2.RetrieveError
	if !errors.As(err, &rerr) {
		return "", "", false
	}
	code, desc = rerr.ErrorCode, rerr.ErrorDescription
	if code == "" {
		var oauthErr struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		switch {
		case json.Unmarshal(rerr.Body, &oauthErr) == nil:
			code, desc = oauthErr.Error, oauthErr.Description
		case rerr.Response != nil: // IAM Credentials answers in Google's envelope
			var gerr *googleapi.Error
			if errors.As(googleapi.CheckResponseWithBody(rerr.Response, rerr.Body), &gerr) {
				desc = gerr.Message
			}
		}
	}
	if code == "" && rerr.Response != nil {
		code = rerr.Response.Status
	}
	return code, desc, true
}

// statusHTTP is the HTTP code Google maps each status to
// (google/rpc/code.proto).
var statusHTTP = map[string]int{
	"CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
	"NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
	"FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501,
	"INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500, "UNAUTHENTICATED": 401,
}

// operationError classifies the error of a finished Operation (a
// google.rpc.Status) as if it had come as an HTTP error.
func operationError(method, email, opName string, code int64, message string, details []json.RawMessage) *Error {
	status := rpccode.Code_name[int32(code)]
	if status == "" || code == 0 {
		status = "UNKNOWN"
	}
	d := statusDetails(int32(code), message, details)
	e := &Error{Method: method, Email: email, Status: status, Message: message, Operation: opName,
		Reason: d.Reason(), RetryAfter: retryDelay(d)}
	e.Kind = kindFromHTTP(statusHTTP[status], status, e.Reason)
	switch e.Kind {
	case KindUnknown:
		e.Kind = KindAmbiguous
	case KindQuota:
		e.Quota = quotaInfo(d, e.Reason)
	}
	return e
}

// QuotaInfo is what a quota error says about the limit it hit. Google puts
// it in the ErrorInfo metadata of a 429 (quota_metric, quota_limit,
// quota_limit_value), sometimes in a QuotaFailure, and a link to ask for
// more in a Help detail; the older errors[].reason "dailyLimitExceeded"
// says only that a daily limit was reached.
type QuotaInfo struct {
	// Metric counts the calls the limit applies to, such as
	// "cloudidentity.googleapis.com/read_requests": calls that share a
	// metric share the limit.
	Metric string
	// Limit is the limit's name, such as "ReadsPerMinutePerUser".
	Limit string
	// Value is the number of calls the limit allows per Window; 0 when not
	// given.
	Value int64
	// Window is the limit's unit, read from its name: time.Minute,
	// 100*time.Second, time.Hour or 24*time.Hour; 0 when unknown.
	Window time.Duration
	// HelpURL is where to ask for a higher limit, from a Help detail.
	HelpURL string
}

// QuotaOf returns what a quota error says about its limit, or nil.
func QuotaOf(err error) *QuotaInfo {
	var e *Error
	if errors.As(err, &e) {
		return e.Quota
	}
	return nil
}

// quotaInfo reads the limit from the parsed details; nil when they say
// nothing about it.
func quotaInfo(ae *apierror.APIError, reason string) *QuotaInfo {
	q := QuotaInfo{}
	md := ae.Metadata()
	q.Metric, q.Limit = md["quota_metric"], md["quota_limit"]
	if v, err := strconv.ParseInt(md["quota_limit_value"], 10, 64); err == nil && v > 0 {
		q.Value = v
	}
	if qf := ae.Details().QuotaFailure; qf != nil {
		for _, v := range qf.GetViolations() {
			q.Metric = cmp.Or(q.Metric, v.GetQuotaMetric())
			q.Limit = cmp.Or(q.Limit, v.GetQuotaId())
			q.Value = cmp.Or(q.Value, max(v.GetQuotaValue(), 0))
		}
	}
	if h := ae.Details().Help; h != nil {
		for _, l := range h.GetLinks() {
			q.HelpURL = cmp.Or(q.HelpURL, l.GetUrl())
		}
	}
	q.Window = windowOf(q.Limit)
	if q.Window == 0 && reason == "dailyLimitExceeded" {
		q.Window = 24 * time.Hour
	}
	if q == (QuotaInfo{}) {
		return nil
	}
	return &q
}

// windowOf reads a limit's unit from its name: "ReadsPerMinutePerUser",
// "RequestsPer100SecondsPerUser", "requests-per-day-per-project" or
// "Read requests per minute per user".
func windowOf(limit string) time.Duration {
	n := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, limit)
	for _, u := range []struct {
		word string
		d    time.Duration
	}{
		{"per100second", 100 * time.Second},
		{"perminute", time.Minute},
		{"perhour", time.Hour},
		{"perday", 24 * time.Hour},
		{"persecond", time.Second},
	} {
		if strings.Contains(n, u.word) {
			return u.d
		}
	}
	return 0
}
