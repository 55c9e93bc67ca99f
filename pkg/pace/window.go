package pace

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Window defaults.
const (
	// DefaultHeadroom multiplies rate × latency: slots beyond the calls in
	// flight keep a queue at the limiter, so it never waits for a worker.
	DefaultHeadroom = 1.5
	// DefaultLatency is assumed until calls report their own. Erring long
	// only queues a few more callers at the limiter.
	DefaultLatency = time.Second
)

// EWMA weights of a latency sample: rises are followed quickly (a slow
// server must not starve the rate), falls slowly (a too-large window only
// costs queueing at the limiter).
const (
	latencyUp   = 0.3
	latencyDown = 0.05
)

// Window bounds the attempts in progress to what the limiter's rate needs
// at the observed latency (Little's law): clamp(ceil(rate × latency ×
// headroom) + 1, 1, max). At 50/s and 1 s that is 76 slots; at 500/s and
// 20 ms, 16. An unlimited limiter gets max.
//
// A slot is held from Acquire to release and covers one attempt: Acquire
// takes the slot and then waits on the limiter; latency is measured from
// admission, so the limiter queue does not inflate it (which would grow the
// window without bound).
type Window struct {
	l   *Limiter
	max int

	mu       sync.Mutex
	inFlight int
	latency  float64         // EWMA, seconds
	waiters  []chan struct{} // FIFO
	size     atomic.Int64    // last computed, for Size
}

// WindowOption configures a Window.
type WindowOption func(*Window)

// WithInitialLatency sets the latency assumed before any call returns.
func WithInitialLatency(d time.Duration) WindowOption {
	return func(w *Window) {
		if d > 0 {
			w.latency = d.Seconds()
		}
	}
}

// NewWindow returns a window over l of at most maxSlots slots (at least 1).
func NewWindow(l *Limiter, maxSlots int, opts ...WindowOption) *Window {
	w := &Window{l: l, max: max(1, maxSlots), latency: DefaultLatency.Seconds()}
	for _, o := range opts {
		o(w)
	}
	w.size.Store(int64(w.sizeLocked()))
	return w
}

// Acquire blocks until a slot is free and the limiter admits one call. The
// caller makes the call and then calls release, exactly once (more calls
// are ignored). On error nothing is held.
func (w *Window) Acquire(ctx context.Context) (release func(), err error) {
	release, _, err = w.acquire(ctx, false)
	return release, err
}

func (w *Window) acquire(ctx context.Context, probeOK bool) (release func(), tk ticket, err error) {
	if err := w.take(ctx); err != nil {
		return nil, ticket{}, err
	}
	tk, err = w.l.wait(ctx, probeOK)
	if err != nil {
		w.put(0)
		return nil, ticket{}, err
	}
	start := time.Now()
	var done atomic.Bool
	return func() {
		if !done.Swap(true) {
			w.put(time.Since(start))
		}
	}, tk, nil
}

// Do is the package-level Do with each attempt holding a slot of w (and
// waiting on its limiter); backoff sleeps hold none.
func (w *Window) Do(ctx context.Context, p Policy, classify Classifier, call func(context.Context) error) (attempts int, err error) {
	return retry(ctx, w.l, w, p, classify, call)
}

// Size is the current number of slots.
func (w *Window) Size() int { return int(w.size.Load()) }

// InFlight is the number of slots held (attempts queued at the limiter or
// in progress).
func (w *Window) InFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inFlight
}

// Latency is the smoothed latency of the calls.
func (w *Window) Latency() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Duration(w.latency * float64(time.Second))
}

// take gets a slot, queueing FIFO behind earlier waiters.
func (w *Window) take(ctx context.Context) error {
	w.mu.Lock()
	if len(w.waiters) == 0 && w.inFlight < w.sizeLocked() {
		w.inFlight++
		w.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	w.waiters = append(w.waiters, ch)
	w.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		i := slices.Index(w.waiters, ch)
		if i >= 0 {
			w.waiters = slices.Delete(w.waiters, i, i+1)
		}
		w.mu.Unlock()
		if i < 0 {
			w.put(0) // granted while we gave up: hand it back
		}
		return ctx.Err()
	}
}

// put frees a slot, records a latency sample when there is one, and grants
// slots to waiters while the (possibly new) size allows.
func (w *Window) put(latency time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
	if latency > 0 {
		w.observe(latency.Seconds())
	}
	size := w.sizeLocked()
	for len(w.waiters) > 0 && w.inFlight < size {
		close(w.waiters[0])
		w.waiters[0] = nil
		w.waiters = w.waiters[1:]
		w.inFlight++
	}
}

func (w *Window) observe(s float64) {
	a := latencyDown
	if s > w.latency {
		a = latencyUp
	}
	w.latency += a * (s - w.latency)
}

// sizeLocked computes the size from the limiter's current rate; the rate
// changes on the limiter's side, so it is read on every decision.
func (w *Window) sizeLocked() int {
	n := w.max
	if r := w.l.Rate(); !w.l.Unlimited() && r > 0 {
		want := math.Ceil(r*w.latency*DefaultHeadroom) + 1
		if want < float64(n) {
			n = max(1, int(want))
		}
	}
	w.size.Store(int64(n))
	return n
}
