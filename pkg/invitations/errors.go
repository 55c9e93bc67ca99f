package invitations

import (
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

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
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

// envelope is Google's JSON error body.
type envelope struct {
	Error struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Status  string            `json:"status"`
		Details []json.RawMessage `json:"details"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
	} `json:"error"`
}

func fillFromHTTP(e *Error, gerr *googleapi.Error) {
	e.HTTPCode = gerr.Code
	e.Message = gerr.Message
	var env envelope
	if json.Unmarshal([]byte(gerr.Body), &env) == nil {
		e.Status = env.Error.Status
		if e.Message == "" {
			e.Message = env.Error.Message
		}
		e.Reason, e.RetryAfter = parseDetails(env.Error.Details)
		if e.Reason == "" && len(env.Error.Errors) > 0 {
			e.Reason = env.Error.Errors[0].Reason
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(gerr.Code)
	}
	if d := parseRetryAfter(gerr.Header.Get("Retry-After"), time.Now()); d > e.RetryAfter {
		e.RetryAfter = d
	}
	e.Kind = kindFromHTTP(gerr.Code, e.Status, e.Reason)
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

func isRateReason(r string) bool {
	switch r {
	case "RATE_LIMIT_EXCEEDED", "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
		"RESOURCE_PROJECT_INVALID_QUOTA", "dailyLimitExceeded":
		return true
	}
	return false
}

// parseDetails finds the ErrorInfo reason and the RetryInfo delay among the
// google.rpc detail messages.
func parseDetails(details []json.RawMessage) (reason string, retry time.Duration) {
	for _, raw := range details {
		var d struct {
			Type       string `json:"@type"`
			Reason     string `json:"reason"`
			RetryDelay string `json:"retryDelay"`
		}
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		switch {
		case strings.HasSuffix(d.Type, "google.rpc.ErrorInfo"):
			reason = d.Reason
		case strings.HasSuffix(d.Type, "google.rpc.RetryInfo"):
			if v, err := time.ParseDuration(d.RetryDelay); err == nil && v > 0 {
				retry = v
			}
		}
	}
	return reason, retry
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
		var env envelope // IAM Credentials answers in Google's envelope
		switch {
		case json.Unmarshal(rerr.Body, &oauthErr) == nil:
			code, desc = oauthErr.Error, oauthErr.Description
		case json.Unmarshal(rerr.Body, &env) == nil:
			desc = env.Error.Message
		}
	}
	if code == "" && rerr.Response != nil {
		code = rerr.Response.Status
	}
	return code, desc, true
}

// statusCode maps google.rpc.Code numbers, as found in an Operation's error,
// to their names.
var statusCode = map[int64]string{
	1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
	6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
	10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
	15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}

// statusHTTP is the HTTP code Google maps each status to.
var statusHTTP = map[string]int{
	"CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
	"NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
	"FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501,
	"INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500, "UNAUTHENTICATED": 401,
}

// operationError classifies the error of a finished Operation as if it had
// come as an HTTP error.
func operationError(method, email, opName string, code int64, message string, details []json.RawMessage) *Error {
	status := statusCode[code]
	if status == "" {
		status = "UNKNOWN"
	}
	e := &Error{Method: method, Email: email, Status: status, Message: message, Operation: opName}
	e.Reason, e.RetryAfter = parseDetails(details)
	e.Kind = kindFromHTTP(statusHTTP[status], status, e.Reason)
	if e.Kind == KindUnknown {
		e.Kind = KindAmbiguous
	}
	return e
}
