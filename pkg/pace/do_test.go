package pace

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var (
	errTransient = errors.New("transient")
	errQuota     = errors.New("quota")
	errFatal     = errors.New("fatal")
)

type retryAfterError struct{ after time.Duration }

func (e retryAfterError) Error() string { return fmt.Sprintf("unavailable, retry after %v", e.after) }

func classify(err error) Verdict {
	var ra retryAfterError
	switch {
	case errors.As(err, &ra):
		return Verdict{Retry: true, After: ra.after}
	case errors.Is(err, errQuota):
		return Verdict{Quota: true}
	case errors.Is(err, errTransient):
		return Verdict{Retry: true}
	}
	return Verdict{}
}

// script returns a call that fails with errs in turn, then succeeds.
func script(errs ...error) (call func(context.Context) error, calls *int) {
	n := 0
	return func(context.Context) error {
		n++
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}, &n
}

func TestDo(t *testing.T) {
	wrapped := fmt.Errorf("send a@example.com: %w", errTransient)
	tests := []struct {
		name       string
		errs       []error
		noClassify bool
		attempts   int
		is         error // nil: success
		exhaust    bool
		slept      time.Duration // with Base 100ms and draws of 0.5
		quota      uint64
	}{
		{name: "success", attempts: 1},
		{name: "transient twice", errs: []error{errTransient, errTransient}, attempts: 3, slept: 150 * time.Millisecond},
		{name: "quota", errs: []error{errQuota}, attempts: 2, slept: 50 * time.Millisecond, quota: 1},
		{name: "retry-after floor", errs: []error{retryAfterError{3 * time.Second}}, attempts: 2, slept: 3 * time.Second},
		{name: "fatal at once", errs: []error{errFatal}, attempts: 1, is: errFatal},
		{name: "fatal after a retry", errs: []error{errTransient, errFatal}, attempts: 2, is: errFatal, slept: 50 * time.Millisecond},
		{name: "nil classify retries nothing", errs: []error{errTransient}, noClassify: true, attempts: 1, is: errTransient},
		{name: "max attempts", errs: []error{errTransient, errQuota, errTransient, errTransient}, attempts: 3, is: errTransient, exhaust: true, slept: 150 * time.Millisecond, quota: 1},
		{name: "wrapped stays visible", errs: []error{wrapped, wrapped, wrapped}, attempts: 3, is: errTransient, exhaust: true, slept: 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(0)
				p := Policy{Base: 100 * time.Millisecond, MaxAttempts: 3, Rand: constRand(0.5)}
				c := classify
				if tt.noClassify {
					c = nil
				}
				call, calls := script(tt.errs...)
				start := time.Now()
				attempts, err := Do(context.Background(), l, p, c, call)
				if attempts != tt.attempts || *calls != tt.attempts {
					t.Errorf("attempts = %d (%d calls), want %d", attempts, *calls, tt.attempts)
				}
				if tt.is == nil && err != nil || tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("err = %v, want %v", err, tt.is)
				}
				var ex *ExhaustedError
				if got := errors.As(err, &ex); got != tt.exhaust {
					t.Errorf("ExhaustedError = %v, want %v (err %v)", got, tt.exhaust, err)
				} else if got && ex.Attempts != tt.attempts {
					t.Errorf("ExhaustedError.Attempts = %d, want %d", ex.Attempts, tt.attempts)
				}
				if got := time.Since(start); got != tt.slept {
					t.Errorf("slept %v, want %v", got, tt.slept)
				}
				if s := l.Stats(); s.QuotaEvents != tt.quota || s.Admitted != uint64(tt.attempts) {
					t.Errorf("stats %+v, want %d quota events, %d admitted", s, tt.quota, tt.attempts)
				}
			})
		})
	}
}

func TestDoRetryAfterOnQuotaPausesOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(0)
		start := time.Now()
		call, _ := script(errQuota)
		quota := func(error) Verdict { return Verdict{Quota: true, After: 10 * time.Second} }
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() { Do(context.Background(), l, Policy{}, quota, call) })
		synctest.Wait()
		l.Wait(context.Background())
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("another caller admitted after %v, want 10s", got)
		}
	})
}

func TestDoContextEnds(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(l *Limiter, cancel context.CancelFunc)
		rate     float64
		errs     []error
		attempts int
		last     error // also visible through the returned error
		after    time.Duration
		call     func(context.Context) error
		classify Classifier
	}{
		{
			name:  "before the first attempt",
			setup: func(_ *Limiter, cancel context.CancelFunc) { cancel() },
		},
		{
			name:     "during a backoff sleep",
			setup:    func(_ *Limiter, cancel context.CancelFunc) { time.AfterFunc(time.Second, cancel) },
			errs:     []error{errTransient},
			attempts: 1,
			last:     errTransient,
			after:    time.Second,
		},
		{
			name: "while paused by the limiter",
			setup: func(l *Limiter, cancel context.CancelFunc) {
				tk, _ := l.wait(context.Background(), false)
				l.rejected(tk, Verdict{Quota: true, After: time.Hour}, errQuota)
				time.AfterFunc(2*time.Second, cancel)
			},
			rate:  10,
			after: 2 * time.Second,
		},
		{
			// An HTTP call cut by the interrupt, and a classifier that
			// retries everything: no sleep, no further attempt.
			name:     "call cut by the ctx",
			setup:    func(_ *Limiter, cancel context.CancelFunc) { time.AfterFunc(time.Second, cancel) },
			call:     func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			classify: func(error) Verdict { return Verdict{Retry: true} },
			attempts: 1,
			after:    time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rate)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				p := Policy{Base: time.Hour, Max: time.Hour, Rand: constRand(0.99)}
				start := time.Now()
				tt.setup(l, cancel)
				call, _ := script(tt.errs...)
				if tt.call != nil {
					call = tt.call
				}
				c := classify
				if tt.classify != nil {
					c = tt.classify
				}
				attempts, err := Do(ctx, l, p, c, call)
				if attempts != tt.attempts {
					t.Errorf("attempts = %d, want %d", attempts, tt.attempts)
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
				if tt.last != nil && !errors.Is(err, tt.last) {
					t.Errorf("err = %v, want it to carry %v", err, tt.last)
				}
				if got := time.Since(start); got != tt.after {
					t.Errorf("returned after %v, want %v", got, tt.after)
				}
			})
		})
	}
}
