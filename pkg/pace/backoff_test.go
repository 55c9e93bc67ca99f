package pace

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"
)

func constRand(v float64) func() float64 { return func() float64 { return v } }

// almostOne is the largest draw Rand may return.
var almostOne = math.Nextafter(1, 0)

func TestPolicyCeilingGrowsAndCaps(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		attempt := i + 1
		w *= time.Millisecond
		if got := p.ceiling(attempt); got != w {
			t.Errorf("ceiling(%d) = %v, want %v", attempt, got, w)
		}
		p.Rand = constRand(0)
		if got := p.Delay(attempt, 0); got != 0 {
			t.Errorf("Delay(%d) with draw 0 = %v, want 0", attempt, got)
		}
		p.Rand = constRand(almostOne)
		if got := p.Delay(attempt, 0); got >= w || got < w-time.Microsecond {
			t.Errorf("Delay(%d) with draw ~1 = %v, want just under %v", attempt, got, w)
		}
	}
}

func TestPolicyJitterBounds(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
	}{
		{"defaults", Policy{}},
		{"small", Policy{Base: time.Millisecond, Max: 50 * time.Millisecond}},
		{"base above max", Policy{Base: time.Minute, Max: time.Second}},
		{"huge max", Policy{Base: time.Hour, Max: math.MaxInt64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Rand = SeededRand(1)
			full := tt.p.withDefaults()
			var sum [2]time.Duration // first and second half of the draws
			for attempt := range 200 {
				for i := range 50 {
					c := full.ceiling(attempt)
					d := tt.p.Delay(attempt, 0)
					if d < 0 || d >= c {
						t.Fatalf("Delay(%d) = %v, want in [0, %v)", attempt, d, c)
					}
					sum[i%2] += d / 1000
				}
			}
			if sum[0] == 0 || sum[1] == 0 {
				t.Error("no jitter")
			}
		})
	}
}

func TestPolicyRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		p          Policy
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"floor over a short draw", Policy{Base: time.Second}, 1, 2 * time.Second, 2 * time.Second},
		{"longer draw wins", Policy{Base: 10 * time.Second, Rand: constRand(0.5)}, 1, 2 * time.Second, 5 * time.Second},
		{"wins over Max", Policy{Max: time.Second}, 9, 20 * time.Second, 20 * time.Second},
		{"bounded by MaxRetryAfter", Policy{MaxRetryAfter: time.Minute}, 1, time.Hour, time.Minute},
		{"default bound", Policy{}, 1, 24 * time.Hour, DefaultMaxRetryAfter},
		{"zero means none", Policy{Base: time.Second, Rand: constRand(0.25)}, 1, 0, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.p.Rand == nil {
				tt.p.Rand = constRand(0)
			}
			if got := tt.p.Delay(tt.attempt, tt.retryAfter); got != tt.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.retryAfter, got, tt.want)
			}
		})
	}
}

func TestPolicySeededIsDeterministic(t *testing.T) {
	draws := func(seed uint64) []time.Duration {
		p := Policy{Rand: SeededRand(seed)}
		var ds []time.Duration
		for a := 1; a <= 100; a++ {
			ds = append(ds, p.Delay(a, 0))
		}
		return ds
	}
	a, b, c := draws(42), draws(42), draws(43)
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d: %v then %v with the same seed", i, a[i], b[i])
		}
		if a[i] == c[i] {
			same++
		}
	}
	if same == len(a) {
		t.Error("seeds 42 and 43 drew the same delays")
	}
}

// The zero Policy is the documented one: 8 attempts in all, the first
// delay under 250 ms. The numbers are written out: compared with the
// package's own constants, a changed default would go unnoticed.
func TestPolicyDefaults(t *testing.T) {
	var p Policy
	if got := p.Attempts(); got != 8 {
		t.Errorf("Attempts() = %d, want 8", got)
	}
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		n, err := Do(context.Background(), nil, Policy{}, func(error) Verdict { return Verdict{Retry: true} },
			func(context.Context) error { calls++; return errors.New("503") })
		var ex *ExhaustedError
		if calls != 8 || n != 8 || !errors.As(err, &ex) || ex.Attempts != 8 {
			t.Errorf("Do with the zero Policy: %d calls, %d attempts, %v; want 8 calls and an ExhaustedError after 8", calls, n, err)
		}
	})
	if got := (Policy{MaxAttempts: 1}).Attempts(); got != 1 {
		t.Errorf("Attempts() = %d, want 1", got)
	}
	for range 100 {
		if d := p.Delay(1, 0); d < 0 || d >= 250*time.Millisecond {
			t.Fatalf("Delay(1) = %v, want in [0, 250ms)", d)
		}
	}
}
