package pace

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// waitN runs calls Waits spread over workers goroutines and returns the
// admission times.
func waitN(t *testing.T, l *Limiter, workers, calls int) []time.Time {
	t.Helper()
	var (
		mu    sync.Mutex
		times []time.Time
		wg    sync.WaitGroup
	)
	for i := range workers {
		n := calls / workers
		if i < calls%workers {
			n++
		}
		wg.Go(func() {
			for range n {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return times
}

// The administrator's cap: calls go at its rate, with a burst of one call
// up to 200/s and of 10 ms worth above (timer overshoot at high rates).
func TestLimiterAdmitsAtCap(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		workers int
		calls   int
		burst   int
	}{
		{"slow serial", 2, 1, 10, 1},
		{"10/s serial", 10, 1, 50, 1},
		{"50/s 20 workers", 50, 20, 500, 1},
		{"1000/s 50 workers", 1000, 50, 5000, 10},
		{"2000/s 200 workers", 2000, 200, 10000, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rate)
				start := time.Now()
				times := waitN(t, l, tt.workers, tt.calls)
				got := time.Since(start).Seconds()
				want := float64(tt.calls-tt.burst) / tt.rate
				if math.Abs(got-want) > 1/tt.rate {
					t.Errorf("%d calls took %.4fs, want %.4fs ± %.4fs", tt.calls, got, want, 1/tt.rate)
				}
				if n := countAt(times, start); n != tt.burst {
					t.Errorf("%d calls at once, want a burst of %d", n, tt.burst)
				}
				if s := l.Stats(); s.Admitted != uint64(tt.calls) || l.Rate() != tt.rate {
					t.Errorf("admitted %d at %v/s, want %d at %v/s", s.Admitted, l.Rate(), tt.calls, tt.rate)
				}
			})
		})
	}
}

func countAt(times []time.Time, at time.Time) int {
	n := 0
	for _, t := range times {
		if t.Equal(at) {
			n++
		}
	}
	return n
}

func TestLimiterUnlimited(t *testing.T) {
	tests := []struct {
		name string
		l    func() *Limiter
	}{
		{"zero", func() *Limiter { return NewLimiter(0) }},
		{"negative", func() *Limiter { return NewLimiter(-5) }},
		{"NaN", func() *Limiter { return NewLimiter(math.NaN()) }},
		{"infinite", func() *Limiter { return NewLimiter(math.Inf(1)) }},
		{"nil", func() *Limiter { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := tt.l()
				start := time.Now()
				waitN(t, l, 10, 10000)
				if d := time.Since(start); d != 0 {
					t.Errorf("unlimited waits took %v", d)
				}
				if l != nil {
					// It learns nothing from a quota error.
					refuse(t, l, Verdict{Quota: true, Limit: &Limit{Value: 60, Window: time.Minute}})
					if s := l.Stats(); s.Admitted != 10001 || s.QuotaEvents != 1 || s.Decreases != 0 {
						t.Errorf("stats %+v", s)
					}
				}
				if !l.Unlimited() || l.Rate() != 0 {
					t.Errorf("Unlimited=%v Rate=%v, want true 0", l.Unlimited(), l.Rate())
				}
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Wait on a cancelled ctx = %v", err)
				}
			})
		})
	}
}

// A Retry-After pauses every caller of the class, those already queued
// included; then calls go at the pace again.
func TestLimiterRetryAfterPausesEveryone(t *testing.T) {
	tests := []struct {
		name string
		rate float64
	}{
		{"unlimited", 0},
		{"10/s", 10},
		{"500/s", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rate)
				tk, _ := l.wait(context.Background(), false)
				start := time.Now()
				var (
					mu    sync.Mutex
					times []time.Time
					wg    sync.WaitGroup
				)
				waiters := func() {
					for range 20 {
						wg.Go(func() {
							for range 3 {
								if err := l.Wait(context.Background()); err != nil {
									t.Error(err)
								}
								mu.Lock()
								times = append(times, time.Now())
								mu.Unlock()
							}
						})
					}
				}
				// A paced limiter has callers queued when the report
				// comes; an unlimited one has none to queue.
				if tt.rate > 0 {
					waiters()
					synctest.Wait()
				}
				l.rejected(tk, Verdict{Quota: true, After: 5 * time.Second}, errQuota)
				if got := l.PausedUntil(); !got.Equal(start.Add(5 * time.Second)) {
					t.Errorf("PausedUntil = start+%v, want start+5s", got.Sub(start))
				}
				if tt.rate == 0 {
					waiters()
				}
				wg.Wait()
				early := 0
				for _, at := range times {
					if at.Before(start.Add(5 * time.Second)) {
						early++
					}
				}
				// Only the calls of the cap's first burst went before it.
				burst := max(1, int(tt.rate/100))
				if tt.rate == 0 && early != 0 || early > burst {
					t.Errorf("%d admitted before the end of the pause", early)
				}
				if len(times) != 60 {
					t.Errorf("%d admitted, want 60", len(times))
				}
				if tt.rate > 0 {
					last := slices.MaxFunc(times, time.Time.Compare).Sub(start).Seconds()
					if want := 5 + float64(60-early-burst)/tt.rate; math.Abs(last-want) > 1/tt.rate {
						t.Errorf("last admitted at %.3fs, want %.3fs", last, want)
					}
				}
				if !l.PausedUntil().IsZero() {
					t.Error("still paused after the pause")
				}
			})
		})
	}
}

func TestLimiterPauseOnlyExtendsAndIsBounded(t *testing.T) {
	for _, rate := range []float64{0, 10} {
		synctest.Test(t, func(t *testing.T) {
			l := NewLimiter(rate)
			var tks []ticket
			for range 4 {
				tk, _ := l.wait(context.Background(), false)
				tks = append(tks, tk)
			}
			start := time.Now()
			l.rejected(tks[0], Verdict{Quota: true, After: 2 * time.Second}, errQuota)
			time.Sleep(time.Second)
			l.rejected(tks[1], Verdict{Quota: true, After: 5 * time.Second}, errQuota) // until start+6s
			l.rejected(tks[2], Verdict{Quota: true, After: time.Second}, errQuota)     // does not shorten it
			l.Wait(context.Background())
			if got := time.Since(start); got != 6*time.Second {
				t.Errorf("rate %v: admitted after %v, want 6s", rate, got)
			}
			l.rejected(tks[3], Verdict{Quota: true, After: time.Hour}, errQuota)
			if got := time.Until(l.PausedUntil()); got != DefaultMaxPause {
				t.Errorf("rate %v: pause of 1h capped to %v, want %v", rate, got, DefaultMaxPause)
			}
		})
	}
}

func TestLimiterWaitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(1)
		start := time.Now()
		l.Wait(context.Background()) // takes the only slot of the first second
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want deadline exceeded", err)
		}
		if got := time.Since(start); got != 100*time.Millisecond {
			t.Errorf("gave up after %v, want 100ms", got)
		}
		// The abandoned turn cost nothing.
		l.Wait(context.Background())
		if got := time.Since(start); got != time.Second {
			t.Errorf("next admission after %v, want 1s", got)
		}
		if s := l.Stats(); s.Admitted != 2 {
			t.Errorf("admitted %d, want 2", s.Admitted)
		}
	})
}
