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

func TestLimiterAdmitsAtRate(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		workers int
		calls   int
	}{
		{"slow serial", 2, 1, 10},
		{"10/s serial", 10, 1, 50},
		{"50/s 20 workers", 50, 20, 500},
		{"1000/s 50 workers", 1000, 50, 5000},
		{"2000/s 200 workers", 2000, 200, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rate)
				start := time.Now()
				waitN(t, l, tt.workers, tt.calls)
				got := time.Since(start).Seconds()
				// The bucket starts full: burst calls go at once.
				want := float64(tt.calls-l.burstFor(tt.rate)) / tt.rate
				if math.Abs(got-want) > 1/tt.rate {
					t.Errorf("%d calls took %.4fs, want %.4fs ± %.4fs", tt.calls, got, want, 1/tt.rate)
				}
				if s := l.Stats(); s.Admitted != uint64(tt.calls) {
					t.Errorf("admitted %d, want %d", s.Admitted, tt.calls)
				}
			})
		})
	}
}

func TestLimiterBurst(t *testing.T) {
	tests := []struct {
		rate float64
		opts []Option
		want int
	}{
		{1, nil, 1},
		{199, nil, 1},
		{200, nil, 2},
		{2000, nil, 20},
		{50, []Option{WithBurst(5)}, 5},
	}
	for _, tt := range tests {
		if got := NewLimiter(tt.rate, tt.opts...).state.Load().lim.Burst(); got != tt.want {
			t.Errorf("burst at %v/s = %d, want %d", tt.rate, got, tt.want)
		}
	}
}

func TestLimiterUnlimited(t *testing.T) {
	tests := []struct {
		name string
		l    *Limiter
	}{
		{"zero", NewLimiter(0)},
		{"negative", NewLimiter(-5)},
		{"NaN", NewLimiter(math.NaN())},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := tt.l
				start := time.Now()
				waitN(t, l, 10, 10000)
				if d := time.Since(start); d != 0 {
					t.Errorf("unlimited waits took %v", d)
				}
				l.OnQuota(0)
				l.OnSuccess()
				if !l.Unlimited() || l.Rate() != 0 || l.Target() != 0 {
					t.Errorf("Unlimited=%v Rate=%v Target=%v, want true 0 0", l.Unlimited(), l.Rate(), l.Target())
				}
				if l != nil {
					if s := l.Stats(); s.Admitted != 10000 || s.QuotaEvents != 1 || s.Decreases != 0 {
						t.Errorf("stats %+v", s)
					}
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

func TestLimiterOnQuotaOncePerWindow(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		reports int
		window  time.Duration // of the rate after the first cut
	}{
		{"100/s", 100, 20, time.Second},
		{"1/s", 1, 50, 2 * time.Second},
		{"0.5/s", 0.5, 5, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rate)
				burst := func() {
					var wg sync.WaitGroup
					for range tt.reports {
						wg.Go(func() { l.OnQuota(0) })
					}
					wg.Wait()
				}
				burst()
				half := tt.rate / 2
				if got := l.Rate(); got != half {
					t.Fatalf("after %d reports rate = %v, want %v", tt.reports, got, half)
				}
				time.Sleep(tt.window - time.Millisecond)
				burst()
				if got := l.Rate(); got != half {
					t.Fatalf("inside the window rate = %v, want %v", got, half)
				}
				time.Sleep(time.Millisecond)
				burst()
				if got := l.Rate(); got != half/2 {
					t.Fatalf("after the window rate = %v, want %v", got, half/2)
				}
				if s := l.Stats(); s.QuotaEvents != uint64(3*tt.reports) || s.Decreases != 2 {
					t.Errorf("stats %+v, want %d events, 2 decreases", s, 3*tt.reports)
				}
				if got := l.state.Load().lim.Limit(); float64(got) != half/2 {
					t.Errorf("bucket limit %v, want %v", got, half/2)
				}
			})
		})
	}
}

func TestLimiterFloor(t *testing.T) {
	tests := []struct {
		rate  float64
		opts  []Option
		floor float64
	}{
		{100, nil, 1},
		{5, nil, 0.1},
		{0.05, nil, 0.05},
		{100, []Option{WithMinRate(10)}, 10},
		{100, []Option{WithDecrease(0.9)}, 1},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			l := NewLimiter(tt.rate, tt.opts...)
			for range 100 {
				l.OnQuota(0)
				time.Sleep(time.Minute)
			}
			if got := l.Rate(); got != tt.floor {
				t.Errorf("rate %v/s after 100 cuts = %v, want floor %v", tt.rate, got, tt.floor)
			}
		})
	}
}

// Reports from calls sent before the last cut say nothing about the new
// rate, however late they arrive.
func TestLimiterIgnoresStaleReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(100)
		sent := time.Now()
		time.Sleep(time.Millisecond)
		l.onQuota(sent, 0)
		time.Sleep(3 * time.Second)
		l.onQuota(sent, 0)
		if got := l.Rate(); got != 50 {
			t.Errorf("rate after a stale report = %v, want 50", got)
		}
		l.onQuota(time.Now().Add(-time.Millisecond), 0)
		if got := l.Rate(); got != 25 {
			t.Errorf("rate after a fresh report = %v, want 25", got)
		}
	})
}

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
				start := time.Now()
				var (
					mu    sync.Mutex
					times []time.Time
					wg    sync.WaitGroup
				)
				waiter := func() {
					for range 3 {
						if err := l.Wait(context.Background()); err != nil {
							t.Error(err)
						}
						mu.Lock()
						times = append(times, time.Now())
						mu.Unlock()
					}
				}
				// A paced limiter has callers queued when the report
				// comes; an unlimited one has none to queue.
				if tt.rate > 0 {
					for range 20 {
						wg.Go(waiter)
					}
					synctest.Wait()
				}
				l.OnQuota(5 * time.Second)
				if got := l.PausedUntil(); !got.Equal(start.Add(5 * time.Second)) {
					t.Errorf("PausedUntil = start+%v, want start+5s", got.Sub(start))
				}
				if tt.rate == 0 {
					for range 20 {
						wg.Go(waiter)
					}
				}
				wg.Wait()
				early := 0
				for _, at := range times {
					if at.Before(start.Add(5 * time.Second)) {
						early++
					}
				}
				// Only what the bucket held before the report went out.
				if want := l.burstFor(tt.rate); tt.rate == 0 && early != 0 || early > want {
					t.Errorf("%d admitted before the end of the pause, want <= %d", early, want)
				}
				if len(times) != 60 {
					t.Errorf("%d admitted, want 60", len(times))
				}
				// After the pause, the rest go out at the halved rate.
				if r := l.Rate(); tt.rate > 0 {
					last := slices.MaxFunc(times, time.Time.Compare).Sub(start).Seconds()
					want := 5 + float64(60-early-l.burstFor(r))/r
					if math.Abs(last-want) > 1/r {
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

func TestLimiterPauseOnlyExtends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(0, WithMaxPause(time.Minute))
		start := time.Now()
		l.OnQuota(2 * time.Second)
		time.Sleep(time.Second)
		l.OnQuota(5 * time.Second) // until start+6s
		l.OnQuota(time.Second)     // does not shorten it
		l.Wait(context.Background())
		if got := time.Since(start); got != 6*time.Second {
			t.Errorf("admitted after %v, want 6s", got)
		}
		l.OnQuota(time.Hour)
		if got := time.Until(l.PausedUntil()); got != time.Minute {
			t.Errorf("pause of 1h capped to %v, want 1m", got)
		}
	})
}

func TestLimiterOnSuccessClimbsToTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(100) // recovery 5s: doubles every 5s
		l.OnQuota(0)
		start := time.Now()
		prev := l.Rate()
		var full time.Duration
		for time.Since(start) < 10*time.Second {
			time.Sleep(10 * time.Millisecond)
			l.OnSuccess()
			r := l.Rate()
			if r < prev || r > 100 {
				t.Fatalf("rate went %v -> %v", prev, r)
			}
			if d := time.Since(start); d == 2500*time.Millisecond && math.Abs(r-50*math.Sqrt2) > 0.01 {
				t.Errorf("rate after 2.5s = %v, want %.2f", r, 50*math.Sqrt2)
			}
			if r == 100 && full == 0 {
				full = time.Since(start)
			}
			prev = r
		}
		if full < 5*time.Second || full > 5*time.Second+10*time.Millisecond {
			t.Errorf("back to target after %v, want 5s", full)
		}
		if got := l.state.Load().lim.Limit(); got != 100 {
			t.Errorf("bucket limit %v, want 100", got)
		}
	})
}

func TestLimiterOnSuccessIgnoresGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(100)
		l.OnQuota(3 * time.Second)
		time.Sleep(2 * time.Second)
		l.OnSuccess() // during the pause: no credit
		if got := l.Rate(); got != 50 {
			t.Errorf("rate during the pause = %v, want 50", got)
		}
		time.Sleep(time.Minute)
		l.OnSuccess() // an idle minute is worth one second at most
		if got, want := l.Rate(), 50*math.Pow(2, 0.2); math.Abs(got-want) > 1e-9 {
			t.Errorf("rate after an idle minute = %v, want %v", got, want)
		}
	})
}

func TestLimiterWaitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(1)
		start := time.Now()
		l.Wait(context.Background()) // takes the only token
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want deadline exceeded", err)
		}
		if got := time.Since(start); got != 100*time.Millisecond {
			t.Errorf("gave up after %v, want 100ms", got)
		}
		// The abandoned reservation was handed back.
		l.Wait(context.Background())
		if got := time.Since(start); got != time.Second {
			t.Errorf("next admission after %v, want 1s", got)
		}
		if s := l.Stats(); s.Admitted != 2 {
			t.Errorf("admitted %d, want 2", s.Admitted)
		}
	})
}
