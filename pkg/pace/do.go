package pace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invitectl/invitectl/pkg/words"
)

// Verdict is what a Classifier says about a failed call.
type Verdict struct {
	Retry bool          // transient: try again after a backoff
	Quota bool          // refused for quota (429): the pacer learns, then retry
	After time.Duration // the server's Retry-After, if any
	Limit *Limit        // what a quota error says about its limit; nil when nothing
}

// Classifier maps an error to a Verdict. pace knows nothing about the
// errors of any API; the caller's package classifies them once.
type Classifier func(error) Verdict

// ExhaustedError is returned when every attempt failed with an error worth
// retrying. It unwraps to the last error.
type ExhaustedError struct {
	Attempts int
	Err      error
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("gave up after %s: %v", words.Count(e.Attempts, "attempt", "attempts"), e.Err)
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

// DailyQuotaError says that a quota counted per day (or per hour or more)
// is spent: the class's calls fail at once until Until rather than sleeping
// for hours, so that a run can stop, leave its remaining items pending and
// say when to resume.
type DailyQuotaError struct {
	Class Class
	Limit Limit
	// Until is when the quota is available again: midnight Pacific time
	// for a daily quota.
	Until time.Time
	// Err is the quota error that said so; nil for the calls refused
	// afterwards without being made.
	Err error
}

func (e *DailyQuotaError) Error() string {
	s := "daily quota reached"
	if e.Limit.Name != "" {
		s += " (" + e.Limit.Name
		if e.Limit.Value > 0 {
			s += fmt.Sprintf(": %d per %s", e.Limit.Value, unitWords(e.Limit.Window))
		}
		s += ")"
	}
	return s + "; resume after " + e.Until.Local().Format("2006-01-02 15:04 MST")
}

func (e *DailyQuotaError) Unwrap() error { return e.Err }

// Do calls call until it succeeds, fails for good, runs out of attempts or
// ctx ends, waiting on l before every attempt. It returns the attempts made
// and:
//   - nil on success;
//   - the error itself when classify says neither Retry nor Quota
//     (a nil classify retries nothing);
//   - an *ExhaustedError after p's MaxAttempts;
//   - a *DailyQuotaError when a daily quota is spent (it unwraps to the
//     quota error when this call got one): nothing more of the class can
//     go before its Until;
//   - when ctx ends while waiting, an error that matches both ctx.Err() and
//     the last call's error with errors.Is: an interrupted retry may still
//     have had an effect, and the caller must be able to tell.
//
// A Quota verdict teaches l's Pacer (with the verdict's Limit when there is
// one) and pauses the caller like a Retry verdict, then the next attempt
// waits on l again; both count toward MaxAttempts.
func Do(ctx context.Context, l *Limiter, p Policy, classify Classifier, call func(context.Context) error) (attempts int, err error) {
	return retry(ctx, l, nil, p, classify, call)
}

func noop() {}

// admit waits for one attempt: on w when there is one, else on l.
func admit(ctx context.Context, l *Limiter, w *Window) (release func(), tk ticket, err error) {
	if w != nil {
		return w.acquire(ctx, true)
	}
	tk, err = l.wait(ctx, true)
	return noop, tk, err
}

func retry(ctx context.Context, l *Limiter, w *Window, p Policy, classify Classifier, call func(context.Context) error) (int, error) {
	p = p.withDefaults()
	var last error
	for attempt := 1; ; attempt++ {
		release, tk, err := admit(ctx, l, w)
		if err != nil {
			return attempt - 1, interrupted(err, last)
		}
		err = call(ctx)
		release()
		if err == nil {
			l.succeeded(tk)
			return attempt, nil
		}
		v := Verdict{}
		if classify != nil {
			v = classify(err)
		}
		if !v.Retry && !v.Quota {
			// An answer that is not a quota error: the server counted the
			// call, unless the caller cut it.
			if ctxDone(ctx) == nil {
				l.succeeded(tk)
			} else {
				l.abandoned(tk)
			}
			return attempt, err
		}
		if v.Quota {
			if err := l.rejected(tk, v, err); err != nil {
				return attempt, err
			}
		} else {
			l.abandoned(tk)
		}
		last = err
		if attempt >= p.MaxAttempts {
			return attempt, &ExhaustedError{Attempts: attempt, Err: err}
		}
		if err := sleep(ctx, p.Delay(attempt, v.After)); err != nil {
			return attempt, interrupted(err, last)
		}
	}
}

// interrupted reports a ctx error together with the last call's error.
func interrupted(ctxErr, last error) error {
	if last == nil || errors.Is(last, ctxErr) {
		return ctxErr
	}
	return fmt.Errorf("%w; last attempt: %w", ctxErr, last)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctxDone(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
