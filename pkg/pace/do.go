package pace

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Verdict is what a Classifier says about a failed call.
type Verdict struct {
	Retry bool          // transient: try again after a backoff
	Quota bool          // throttled (429): slow everyone down, then retry
	After time.Duration // the server's Retry-After, if any
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
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Err)
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

// Do calls call until it succeeds, fails for good, runs out of attempts or
// ctx ends, waiting on l before every attempt. It returns the attempts made
// and:
//   - nil on success;
//   - the error itself when classify says neither Retry nor Quota
//     (a nil classify retries nothing);
//   - an *ExhaustedError after p's MaxAttempts;
//   - when ctx ends while waiting, an error that matches both ctx.Err() and
//     the last call's error with errors.Is: an interrupted retry may still
//     have had an effect, and the caller must be able to tell.
//
// A Quota verdict calls l.OnQuota (its Retry-After pauses every caller of
// l), then backs off like a Retry verdict; both count toward MaxAttempts.
// Any answer that is not throttling (a success, or an error that is not
// retried, such as a 404) calls l.OnSuccess: the server kept up.
func Do(ctx context.Context, l *Limiter, p Policy, classify Classifier, call func(context.Context) error) (attempts int, err error) {
	return retry(ctx, l, nil, p, classify, call)
}

func noop() {}

// admit waits for one attempt: on w when there is one, else on l.
func admit(ctx context.Context, l *Limiter, w *Window) (release func(), err error) {
	if w != nil {
		return w.Acquire(ctx)
	}
	return noop, l.Wait(ctx)
}

func retry(ctx context.Context, l *Limiter, w *Window, p Policy, classify Classifier, call func(context.Context) error) (int, error) {
	p = p.withDefaults()
	var last error
	for attempt := 1; ; attempt++ {
		release, err := admit(ctx, l, w)
		if err != nil {
			return attempt - 1, interrupted(err, last)
		}
		var admitted time.Time
		if !l.Unlimited() {
			admitted = time.Now() // lets onQuota spot stale reports
		}
		err = call(ctx)
		release()
		if err == nil {
			l.OnSuccess()
			return attempt, nil
		}
		v := Verdict{}
		if classify != nil {
			v = classify(err)
		}
		if !v.Retry && !v.Quota {
			if ctxDone(ctx) == nil {
				l.OnSuccess()
			}
			return attempt, err
		}
		if v.Quota {
			l.onQuota(admitted, v.After)
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
