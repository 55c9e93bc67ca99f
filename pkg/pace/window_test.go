package pace

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestWindowSize(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		latency time.Duration
		max     int
		want    int
	}{
		{"50/s at 1s", 50, time.Second, 1000, 76},
		{"500/s at 20ms", 500, 20 * time.Millisecond, 1000, 16},
		{"2000/s at 300ms", 2000, 300 * time.Millisecond, 4096, 901},
		{"capped by max", 50, time.Second, 20, 20},
		{"slow rate", 0.1, time.Second, 100, 2},
		{"fast calls", 10, time.Millisecond, 100, 2},
		{"max below 1", 10, time.Second, 0, 1},
		{"unlimited", 0, time.Second, 64, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWindow(NewLimiter(tt.rate), tt.max, WithInitialLatency(tt.latency))
			if got := w.Size(); got != tt.want {
				t.Errorf("Size() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWindowSizeFollowsRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(100)
		w := NewWindow(l, 1000)
		if got := w.Size(); got != 151 {
			t.Fatalf("Size() = %d, want 151", got)
		}
		refuse(t, l, Verdict{Quota: true, Limit: &Limit{Value: 6000, Window: time.Minute}}) // 97/s
		release, err := w.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the same latency as assumed
		release()
		if got := w.Size(); got != 147 {
			t.Errorf("Size() after learning 100/s = %d, want 147", got)
		}
	})
}

// runPool runs workers doing calls through w until ctx ends. The default
// call (when call is nil) sleeps latency and counts the calls started at or
// after from.
func runPool(ctx context.Context, w *Window, workers int, latency time.Duration, from time.Time, call func(context.Context) error) int64 {
	var (
		n  atomic.Int64
		wg sync.WaitGroup
	)
	if call == nil {
		call = func(ctx context.Context) error {
			if ctx.Err() == nil && !time.Now().Before(from) {
				n.Add(1)
			}
			time.Sleep(latency)
			return nil
		}
	}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				w.Do(ctx, Policy{}, classify, call)
			}
		})
	}
	wg.Wait()
	return n.Load()
}

func TestWindowReachesRateAtAnyLatency(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		latency time.Duration
		opts    []WindowOption
	}{
		{"50/s at 1s", 50, time.Second, nil},
		{"500/s at 20ms", 500, 20 * time.Millisecond, nil},
		{"20/s at 3s", 20, 3 * time.Second, nil},
		{"50/s at 1s, guessed 10ms", 50, time.Second, []WindowOption{WithInitialLatency(10 * time.Millisecond)}},
		{"200/s at 2s, guessed 10ms", 200, 2 * time.Second, []WindowOption{WithInitialLatency(10 * time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rate)
				w := NewWindow(l, 1024, tt.opts...)
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				// Measure the last 10 s, after the window has settled.
				done := runPool(ctx, w, 1024, tt.latency, start.Add(20*time.Second), nil)
				want := tt.rate * 10
				t.Logf("%d calls in the last 10s, size %d, latency %v", done, w.Size(), w.Latency())
				if got := float64(done); got < want*0.98 || got > want*1.02+1 {
					t.Errorf("%d calls in the last 10s, want %.0f", done, want)
				}
				if need := int(tt.rate * tt.latency.Seconds()); w.Size() < need {
					t.Errorf("Size() = %d, want >= %d", w.Size(), need)
				}
				if w.InFlight() != 0 {
					t.Errorf("InFlight() = %d after the pool ended", w.InFlight())
				}
			})
		})
	}
}

func TestWindowNeverExceedsSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = 100 * time.Millisecond
		l := NewLimiter(200) // 31 slots at 100ms
		w := NewWindow(l, 1000, WithInitialLatency(latency))
		var active, peak, peakHeld atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			for ctx.Err() == nil {
				peakHeld.Store(max(peakHeld.Load(), int64(w.InFlight())))
				time.Sleep(time.Millisecond)
			}
		})
		for range 100 {
			wg.Go(func() {
				for ctx.Err() == nil {
					release, err := w.Acquire(ctx)
					if err != nil {
						return
					}
					n := active.Add(1)
					if n > int64(w.Size()) {
						t.Errorf("%d in flight, size %d", n, w.Size())
					}
					peak.Store(max(peak.Load(), n))
					time.Sleep(latency)
					active.Add(-1)
					release()
				}
			})
		}
		wg.Wait()
		// Slots are held by calls (rate × latency) and by their queue
		// at the limiter.
		if w.Size() != 31 || peakHeld.Load() != 31 {
			t.Errorf("size %d, peak %d slots held, want 31 and 31", w.Size(), peakHeld.Load())
		}
		if p := peak.Load(); p < 20 || p > 31 {
			t.Errorf("peak %d calls in progress, want 20..31", p)
		}
	})
}

// The same on the real clock and real scheduler, for the race detector.
func TestWindowNeverExceedsSizeConcurrent(t *testing.T) {
	const size = 8
	w := NewWindow(nil, size)
	var active atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 500 {
				release, err := w.Acquire(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n := active.Add(1); n > size {
					t.Errorf("%d in flight, size %d", n, size)
				}
				runtime.Gosched()
				active.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if got := w.InFlight(); got != 0 {
		t.Errorf("InFlight() = %d at the end", got)
	}
}

func TestWindowCancelDoesNotLeak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWindow(nil, 1)
		release, err := w.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := w.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire on a full window = %v, want deadline exceeded", err)
		}
		if got := w.InFlight(); got != 1 {
			t.Errorf("InFlight() = %d after a cancelled Acquire, want 1", got)
		}
		release()
		release() // a second release is ignored
		if got := w.InFlight(); got != 0 {
			t.Errorf("InFlight() = %d after release, want 0", got)
		}
		if _, err := w.Acquire(context.Background()); err != nil {
			t.Errorf("Acquire after release = %v", err)
		}
	})
}

// A slot granted at the instant its waiter gives up goes back.
func TestWindowCancelRacingRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWindow(nil, 1)
		for range 200 {
			release, _ := w.Acquire(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			time.AfterFunc(time.Second, release)
			if r, err := w.Acquire(ctx); err == nil {
				r()
			}
			cancel()
			synctest.Wait()
			if got := w.InFlight(); got != 0 {
				t.Fatalf("InFlight() = %d, want 0", got)
			}
		}
	})
}

func TestWindowCancelWhileLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10)
		refuse(t, l, Verdict{Quota: true, After: time.Minute})
		w := NewWindow(l, 4)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := w.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire during a pause = %v, want deadline exceeded", err)
		}
		if got := w.InFlight(); got != 0 {
			t.Errorf("InFlight() = %d, want 0", got)
		}
	})
}

// A backoff sleep holds no slot: others get through meanwhile.
func TestWindowDoSleepsWithoutSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWindow(nil, 1)
		start := time.Now()
		call, _ := script(errTransient)
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() {
			w.Do(context.Background(), Policy{Base: time.Minute, Rand: constRand(0.5)}, classify, call)
		})
		synctest.Wait()
		n, err := w.Do(context.Background(), Policy{}, classify, func(context.Context) error { return nil })
		if n != 1 || err != nil {
			t.Fatalf("Do = %d, %v", n, err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("waited %v for a slot held by a sleeper", got)
		}
	})
}
