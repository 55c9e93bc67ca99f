package pace

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// refuse makes one call of l (a probe, if one is due) that the server
// refuses with v, and returns what the pacer answered.
func refuse(t *testing.T, l *Limiter, v Verdict) error {
	t.Helper()
	tk, err := l.wait(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	return l.rejected(tk, v, errQuota)
}

// teach makes n calls of l that the server takes, then one it refuses
// with v.
func teach(t *testing.T, l *Limiter, n int, v Verdict) error {
	t.Helper()
	for range n {
		tk, err := l.wait(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		l.succeeded(tk)
	}
	return refuse(t, l, v)
}

// perMinute is issue 9's 429: 60 calls per minute of one metric.
func perMinute(metric string, value int64) Verdict {
	return Verdict{Retry: true, Quota: true, Limit: &Limit{Metric: metric, Name: "RequestsPerMinutePerUser", Value: value,
		Window: time.Minute, Help: "https://cloud.google.com/docs/quotas/help/request_increase"}}
}

var bare = Verdict{Retry: true, Quota: true}

// admissions makes n calls of l, one after the other, and returns when
// each was admitted.
func admissions(t *testing.T, l *Limiter, n int) []time.Time {
	t.Helper()
	var times []time.Time
	for range n {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Now())
	}
	return times
}

// busiest is the most admissions in any window of length w.
func busiest(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for times[j].Add(w).Compare(times[i]) <= 0 {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// A 429 with the limit's details: from then on, calls go one every
// minute/58, after waiting for the burst that filled the window to leave
// it; no 60 s span ever holds more than 60 calls.
func TestPaceFromDetails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := New(Config{ReadQPS: 25})
		l := p.Limiter(Read)
		burst := admissions(t, l, 60) // what the server took: 2.36 s at 25/s
		tk, _ := l.wait(context.Background(), false)
		if err := l.rejected(tk, perMinute("m", 60), errQuota); err != nil {
			t.Fatal(err)
		}
		if got, want := l.Rate(), 58.0/60; math.Abs(got-want) > 1e-9 {
			t.Errorf("Rate() = %v, want %v", got, want)
		}
		after := admissions(t, l, 120)
		// The window takes a call again once three of the burst left it.
		if got, want := after[0], burst[2].Add(time.Minute); !got.Equal(want) {
			t.Errorf("first call after the refusal at %v, want %v", got.Sub(start), want.Sub(start))
		}
		gap := time.Minute / 58
		for i := 1; i < len(after); i++ {
			if d := after[i].Sub(after[i-1]); d < gap || d > gap+time.Microsecond {
				t.Fatalf("call %d came %v after the previous, want %v (evenly spread)", i, d, gap)
			}
		}
		if got := busiest(append(burst, after...), time.Minute); got > 60 {
			t.Errorf("%d calls in one minute, want at most 60", got)
		}
		if s := l.Stats(); s.Decreases != 1 || s.QuotaEvents != 1 {
			t.Errorf("stats %+v, want 1 quota event, 1 decrease", s)
		}
	})
}

// The calls of a burst that the server refuses after the first one do not
// lower the pace again: nothing is halved over and over.
func TestRefusalsOfABurstCountOnce(t *testing.T) {
	for _, v := range []Verdict{perMinute("m", 60), bare} {
		synctest.Test(t, func(t *testing.T) {
			l := New(Config{ReadQPS: 100}).Limiter(Read)
			admissions(t, l, 60)
			var tks []ticket
			for range 10 { // in flight when the first refusal comes back
				tk, _ := l.wait(context.Background(), false)
				tks = append(tks, tk)
			}
			for _, tk := range tks {
				l.rejected(tk, v, errQuota)
			}
			if s := l.Stats(); s.Decreases != 1 {
				t.Errorf("details %v: %d decreases for one full window, want 1", v.Limit != nil, s.Decreases)
			}
			if got, want := l.Rate(), 58.0/60; math.Abs(got-want) > 1e-9 {
				t.Errorf("details %v: Rate() = %v, want %v", v.Limit != nil, got, want)
			}
		})
	}
}

// Refused out of order: the calls of the cut's window that come back
// refused after it correct what it counted.
func TestLateRefusalsCorrectTheCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{ReadQPS: 100}).Limiter(Read)
		admissions(t, l, 59)
		a, _ := l.wait(context.Background(), false)
		b, _ := l.wait(context.Background(), false)
		l.rejected(b, bare, errQuota) // counts 60 before it, a included
		if got := l.p.Describe(); !strings.HasPrefix(got, "about 60 requests per minute for reads") {
			t.Fatalf("after the first refusal: %q", got)
		}
		l.rejected(a, bare, errQuota) // a was refused too: 59
		if got := l.p.Describe(); !strings.HasPrefix(got, "about 59 requests per minute for reads") {
			t.Errorf("after the late refusal: %q", got)
		}
	})
}

// serveOnce refuses the call number n (from 1) without details; every
// other call passes.
func serveOnce(n int) func(context.Context) error {
	calls := 0
	return func(context.Context) error {
		calls++
		if calls == n {
			return errQuota
		}
		return nil
	}
}

func quota(err error) Verdict {
	if errors.Is(err, errQuota) {
		return bare
	}
	return Verdict{}
}

// A lone refusal without details (a fault): the quick probe passes, and
// the cut is undone at once.
func TestLoneRefusalIsUndone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{ReadQPS: 20}).Limiter(Read)
		call := serveOnce(30)
		start := time.Now()
		for range 100 {
			if _, err := Do(context.Background(), l, Policy{Rand: constRand(0)}, quota, call); err != nil {
				t.Fatal(err)
			}
		}
		// 101 calls at 20/s, the probe 50 ms after the refusal.
		if got, want := time.Since(start), 5*time.Second; got > want+firstProbe {
			t.Errorf("took %v, want at most %v", got, want+firstProbe)
		}
		if l.Rate() != 20 || !strings.Contains(l.p.Describe(), "no quota learned yet for reads") {
			t.Errorf("after a lone refusal: %v/s, %q", l.Rate(), l.p.Describe())
		}
	})
}

// A refusal without details while the window holds what the pace puts in
// it is a lone one: the pace stays.
func TestRefusalAtThePaceIsLone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{ReadQPS: 100}).Limiter(Read)
		teach(t, l, 60, perMinute("", 60))
		time.Sleep(time.Minute)
		admissions(t, l, 58) // a whole window at the pace
		refuse(t, l, bare)
		if s := l.Stats(); s.Decreases != 1 || math.Abs(l.Rate()-58.0/60) > 1e-9 {
			t.Errorf("stats %+v, rate %v: want the pace kept", s, l.Rate())
		}
	})
}

func TestSharedMetricSharesOnePace(t *testing.T) {
	tests := []struct {
		name           string
		read, write    string // metrics
		shared         bool
		describe       string
		readR, writeR  float64 // calls per second
		busiestMinute  int     // reads and writes together
		minuteOfWrites int     // when not shared
	}{
		{"one metric", "svc/requests", "svc/requests", true,
			"60 requests per minute (RequestsPerMinutePerUser), shared by reads and writes", 58.0 / 60, 58.0 / 60, 58, 0},
		{"two metrics", "svc/reads", "svc/writes", false,
			"60 requests per minute (RequestsPerMinutePerUser) for reads; 60 requests per minute (RequestsPerMinutePerUser) for writes", 58.0 / 60, 58.0 / 60, 116, 58},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := New(Config{ReadQPS: 25, WriteQPS: 10})
				refuse(t, p.Limiter(Read), perMinute(tt.read, 60))
				refuse(t, p.Limiter(Write), perMinute(tt.write, 60))
				time.Sleep(time.Minute)
				if got := p.Describe(); got != tt.describe {
					t.Errorf("Describe() = %q, want %q", got, tt.describe)
				}
				if r, w := p.Rate(Read), p.Rate(Write); math.Abs(r-tt.readR) > 1e-9 || math.Abs(w-tt.writeR) > 1e-9 {
					t.Errorf("rates %v and %v, want %v and %v", r, w, tt.readR, tt.writeR)
				}
				// Reads and writes called together for two minutes.
				var reads, writes []time.Time
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				done := make(chan struct{})
				go func() {
					defer close(done)
					for p.Limiter(Write).Wait(ctx) == nil {
						writes = append(writes, time.Now())
					}
				}()
				for p.Limiter(Read).Wait(ctx) == nil {
					reads = append(reads, time.Now())
				}
				<-done
				all := append(append([]time.Time{}, reads...), writes...)
				sortTimes(all)
				if got := busiest(all, time.Minute); got > tt.busiestMinute || got < tt.busiestMinute-1 {
					t.Errorf("%d calls in the busiest minute, want %d", got, tt.busiestMinute)
				}
				if got := busiest(writes, time.Minute); !tt.shared && (got > tt.minuteOfWrites+1 || got < tt.minuteOfWrites-1) {
					t.Errorf("%d writes in the busiest minute, want about %d", got, tt.minuteOfWrites)
				}
			})
		})
	}
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// The administrator's cap is an upper bound the learned pace never passes.
func TestCapBoundsTheLearnedPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{ReadQPS: 10}).Limiter(Read)
		refuse(t, l, perMinute("m", 6000)) // 97/s
		time.Sleep(time.Minute)
		start := time.Now()
		admissions(t, l, 101)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("101 calls took %v, want 10s at the cap", got)
		}
		if l.Rate() != 10 {
			t.Errorf("Rate() = %v, want the cap", l.Rate())
		}
	})
}

// A daily quota reached is not slept on: the class's calls fail at once
// with a *DailyQuotaError until midnight Pacific time; the other class goes
// on.
func TestDailyQuota(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{ReadQPS: 25, WriteQPS: 10})
		l := p.Limiter(Read)
		day := Verdict{Quota: true, Limit: &Limit{Metric: "svc/reads", Name: "ReadsPerDayPerProject", Value: 10000, Window: 24 * time.Hour}}
		start := time.Now() // 2000-01-01 00:00 UTC: 16:00 the day before in California
		until := time.Date(2000, 1, 1, 8, 0, 0, 0, time.UTC)
		_, err := Do(context.Background(), l, Policy{}, func(error) Verdict { return day }, func(context.Context) error { return errQuota })
		var d *DailyQuotaError
		if !errors.As(err, &d) || !d.Until.Equal(until) || d.Class != Read || !errors.Is(err, errQuota) {
			t.Fatalf("Do = %v, want a daily quota error until %v", err, until)
		}
		if !strings.Contains(err.Error(), "daily quota reached (ReadsPerDayPerProject: 10000 per day); resume after 2000-01-01") {
			t.Errorf("error %q", err)
		}
		err = l.Wait(context.Background())
		if !errors.As(err, &d) || d.Err != nil || time.Since(start) != 0 {
			t.Errorf("Wait = %v after %v, want a daily quota error at once", err, time.Since(start))
		}
		if err := p.Limiter(Write).Wait(context.Background()); err != nil {
			t.Errorf("a write: %v", err)
		}
		if got := p.Describe(); !strings.HasPrefix(got, "daily quota reached for reads; resume after 2000-01-01") {
			t.Errorf("Describe() = %q", got)
		}
		if got := p.ETA(60, 0); got != 8*time.Hour+time.Minute {
			t.Errorf("ETA = %v, want 8h1m (the reset, then 60 reads at the assumed 60 per minute)", got)
		}
		time.Sleep(time.Until(until))
		if err := l.Wait(context.Background()); err != nil {
			t.Errorf("after the reset: %v", err)
		}
	})
}

func TestResetAfter(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want time.Time
	}{
		{time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)}, // PST
		{time.Date(2026, 7, 7, 23, 0, 0, 0, time.UTC), time.Date(2026, 7, 8, 7, 0, 0, 0, time.UTC)}, // PDT
		{time.Date(2026, 7, 8, 6, 59, 0, 0, time.UTC), time.Date(2026, 7, 8, 7, 0, 0, 0, time.UTC)}, // a minute before
		{time.Date(2026, 7, 8, 7, 0, 0, 0, time.UTC), time.Date(2026, 7, 9, 7, 0, 0, 0, time.UTC)},  // at midnight
	} {
		if got := resetAfter(tc.now, 24*time.Hour); !got.Equal(tc.want) {
			t.Errorf("resetAfter(%v) = %v, want %v", tc.now, got.UTC(), tc.want)
		}
	}
	if got := resetAfter(time.Unix(0, 0), time.Hour); !got.Equal(time.Unix(3600, 0)) {
		t.Errorf("an hourly quota resets at %v", got)
	}
}

// resume starts from what the journal recorded: the learned pace from the
// first call, shared as it was.
func TestStateRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{ReadQPS: 25, WriteQPS: 10})
		refuse(t, p.Limiter(Read), perMinute("svc/requests", 60))
		refuse(t, p.Limiter(Write), perMinute("svc/requests", 60))
		b, err := json.Marshal(p.State())
		if err != nil {
			t.Fatal(err)
		}
		want := `{"quotas":[{"classes":["read","write"],"metric":"svc/requests","name":"RequestsPerMinutePerUser","value":60,"window_s":60,` +
			`"estimate":60,"pace":58,"help":"https://cloud.google.com/docs/quotas/help/request_increase"}]}`
		if string(b) != want {
			t.Errorf("State() = %s\nwant %s", b, want)
		}
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		q := New(Config{ReadQPS: 25, WriteQPS: 10, State: &st})
		if q.Describe() != p.Describe() || q.Rate(Write) != p.Rate(Write) || q.Help() != p.Help() {
			t.Errorf("restored: %q at %v/s, want %q at %v/s", q.Describe(), q.Rate(Write), p.Describe(), p.Rate(Write))
		}
		start := time.Now()
		admissions(t, q.Limiter(Write), 3)
		if got, want := time.Since(start), 2*(time.Minute/58); got != want {
			t.Errorf("3 calls from the restored pace took %v, want %v", got, want)
		}
		if err := json.Unmarshal([]byte(`{"quotas":[{"classes":["admin"]}]}`), &st); err == nil {
			t.Error("an unknown class was accepted")
		}
		if b, _ := json.Marshal(New(Config{}).State()); string(b) != "{}" {
			t.Errorf("nothing learned: %s", b)
		}
	})
}

func TestDescribeAndETA(t *testing.T) {
	tests := []struct {
		name   string
		teach  func(t *testing.T, p *Pacer)
		words  string
		eta    time.Duration // of 120 reads and 60 writes
		help   string
		reads0 time.Duration // of 120 reads alone
	}{
		{"nothing learned", func(*testing.T, *Pacer) {},
			"no quota learned yet for reads; no quota learned yet for writes", 3 * time.Minute, "", 2 * time.Minute},
		{"shared", func(t *testing.T, p *Pacer) {
			refuse(t, p.Limiter(Read), perMinute("svc/requests", 120))
			refuse(t, p.Limiter(Write), perMinute("svc/requests", 120))
		}, "120 requests per minute (RequestsPerMinutePerUser), shared by reads and writes",
			callsAt(180, 116), "https://cloud.google.com/docs/quotas/help/request_increase",
			callsAt(120, 116)},
		{"separate, one bare", func(t *testing.T, p *Pacer) {
			teach(t, p.Limiter(Read), 120, bare)
			time.Sleep(time.Minute)
			refuse(t, p.Limiter(Write), perMinute("svc/writes", 30))
		}, "about 120 requests per minute for reads (learned from quota errors without Google's details); " +
			"30 requests per minute (RequestsPerMinutePerUser) for writes",
			callsAt(60, 29), "https://cloud.google.com/docs/quotas/help/request_increase",
			callsAt(120, 116)},
		{"capped", func(t *testing.T, p *Pacer) {
			refuse(t, p.Limiter(Write), perMinute("svc/writes", 60000))
		}, "no quota learned yet for reads; 60000 requests per minute (RequestsPerMinutePerUser) for writes",
			2 * time.Minute, "https://cloud.google.com/docs/quotas/help/request_increase", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := New(Config{ReadQPS: 25, WriteQPS: 10})
				tt.teach(t, p)
				if got := p.Describe(); got != tt.words {
					t.Errorf("Describe() = %q\nwant %q", got, tt.words)
				}
				if got := p.ETA(120, 60); got != tt.eta {
					t.Errorf("ETA(120, 60) = %v, want %v", got, tt.eta)
				}
				if got := p.ETA(120, 0); got != tt.reads0 {
					t.Errorf("ETA(120, 0) = %v, want %v", got, tt.reads0)
				}
				if got := p.Help(); got != tt.help {
					t.Errorf("Help() = %q, want %q", got, tt.help)
				}
			})
		})
	}
}

// Without details, the pace climbs after each window spent in full without
// a refusal (1, 2, 4... calls), and a refusal past the old estimate brings
// it back under, without probes.
func TestClimbAndBackUnder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{ReadQPS: 100}).Limiter(Read)
		time.Sleep(time.Minute) // a run past its first window
		teach(t, l, 60, bare)
		for range 3 { // the quick probes: refused
			refuse(t, l, bare)
		}
		paces := []int64{}
		for range 5 {
			paces = append(paces, l.cs.g.pace)
			admissions(t, l, int(l.cs.g.pace))
		}
		if want := []int64{58, 59, 61, 65, 73}; !equal(paces, want) {
			t.Errorf("paces %v, want %v", paces, want)
		}
		g := l.cs.g
		held := g.count(l.p.now(), l.p.now())
		refuse(t, l, bare)
		if want := int64(float64(held) * Margin); g.est != int64(held) || g.pace != want || g.hold != nil {
			t.Errorf("after a refusal while climbing: estimate %d, pace %d, probing %v; want %d, %d, no probe", g.est, g.pace, g.hold != nil, held, want)
		}
	})
}

// callsAt is how long calls take at pace calls per minute.
func callsAt(calls, pace int) time.Duration {
	return time.Duration(float64(calls) * float64(time.Minute) / float64(pace))
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A server counting fixed wall-clock minutes renews its window at the
// boundary: a probe just after it finds out, and calls go then rather than
// when a rolling window would let them.
func TestFixedWindowFoundByProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(90 * time.Second) // 00:01:30, past the run's first window
		p := New(Config{ReadQPS: 25})
		l := p.Limiter(Read)
		time.Sleep(time.Minute) // 00:02:30
		count, minute := 0, time.Now().Truncate(time.Minute)
		call := func(context.Context) error {
			if m := time.Now().Truncate(time.Minute); !m.Equal(minute) {
				count, minute = 0, m
			}
			if count >= 60 {
				return errQuota
			}
			count++
			return nil
		}
		details := func(error) Verdict { return perMinute("m", 60) }
		var times []time.Time
		for range 120 {
			if _, err := Do(context.Background(), l, Policy{Base: time.Millisecond}, details, call); err != nil {
				t.Fatal(err)
			}
			times = append(times, time.Now())
		}
		// 60 calls by 00:02:32.4, then the probe at 00:03:01 passes, and the
		// rest go at the pace from there.
		probe := time.Date(2000, 1, 1, 0, 3, 1, 0, time.UTC)
		if got := times[60]; !got.Equal(probe) {
			t.Errorf("61st call at %v, want %v", got.Format(time.TimeOnly), probe.Format(time.TimeOnly))
		}
		if s := l.Stats(); s.QuotaEvents != 1 {
			t.Errorf("%d refusals, want 1", s.QuotaEvents)
		}
	})
}

// A run that starts while the window is full of an earlier run's calls,
// with details: the limit is Google's value, and nothing goes but probes
// (after 15 s, or a minute boundary) until that window is surely gone.
func TestEarlierRunsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(50 * time.Second) // 00:00:50: the earlier run's calls leave at 00:01:20
		p := New(Config{ReadQPS: 25})
		l := p.Limiter(Read)
		free := time.Now().Add(30 * time.Second)
		call := func(context.Context) error {
			if time.Now().Before(free) {
				return errQuota
			}
			return nil
		}
		details := func(error) Verdict { return perMinute("m", 60) }
		if _, err := Do(context.Background(), l, Policy{Base: time.Millisecond, MaxAttempts: 10}, details, call); err != nil {
			t.Fatal(err)
		}
		// A probe at 00:01:05 (refused); the next would come after the
		// minute boundary, 00:02:01, past the end of the run's first
		// window, when the call goes.
		if s := l.Stats(); s.QuotaEvents != 2 {
			t.Errorf("%d refusals, want 2 (the first call and a probe)", s.QuotaEvents)
		}
		if got, want := time.Now(), time.Date(2000, 1, 1, 0, 1, 50, 0, time.UTC); !got.Equal(want) {
			t.Errorf("the call passed at %v, want %v (the end of the run's first window)", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
		}
		if got, want := l.Rate(), 58.0/60; math.Abs(got-want) > 1e-9 {
			t.Errorf("Rate() = %v, want %v", got, want)
		}
	})
}

// Refusals one after the other at the pace are not lone ones: the third
// cuts (a fixed window that a rolling count overrated, say).
func TestRepeatedRefusalsAreNotLone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := State{Quotas: []Learned{{Classes: []Class{Read}, WindowSeconds: 60, Estimate: 100, Pace: 97}}}
		l := New(Config{ReadQPS: 100, State: &st}).Limiter(Read)
		time.Sleep(time.Minute) // past the run's first window
		admissions(t, l, 95)    // as full as the pace makes it, not yet full enough to climb
		for i, want := range []uint64{0, 0, 1} {
			refuse(t, l, bare)
			if got := l.Stats().Decreases; got != want {
				t.Fatalf("after %d refusals in a row: %d decreases, want %d", i+1, got, want)
			}
		}
		if got := l.cs.g.est; got != 95 {
			t.Errorf("estimate %d, want 95 (what the window held)", got)
		}
	})
}

// With the limit's value known, the pace never climbs past Margin of it.
func TestNoClimbPastGooglesValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{ReadQPS: 100}).Limiter(Read)
		time.Sleep(time.Minute)
		teach(t, l, 60, perMinute("m", 60))
		for range 5 {
			admissions(t, l, 58)
		}
		if got := l.cs.g.pace; got != 58 {
			t.Errorf("pace %d after five full windows, want 58", got)
		}
	})
}

// A limit counted in the service's plain requests metric covers every call:
// once reads meet it, writes share its pace before they meet it themselves
// (a plan learns it, and the apply after it must not start writes at their
// cap). A read-only metric stays the reads'.
func TestRequestsMetricCoversEveryCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{ReadQPS: 25, WriteQPS: 10})
		refuse(t, p.Limiter(Read), perMinute("cloudidentity.googleapis.com/requests", 60))
		if d := p.Describe(); !strings.Contains(d, "shared by reads and writes") {
			t.Fatalf("Describe() = %q, want the limit shared", d)
		}
		if r := p.Rate(Write); r > 1.01 {
			t.Fatalf("writes at %.2f/s after a shared 60/min limit was learned from reads", r)
		}
		q := New(Config{ReadQPS: 25, WriteQPS: 10})
		refuse(t, q.Limiter(Read), perMinute("cloudidentity.googleapis.com/read_requests", 60))
		if d := q.Describe(); strings.Contains(d, "shared") {
			t.Fatalf("Describe() = %q: a read metric was shared with writes", d)
		}
	})
}

// A limit of one request, and a retry budget of one attempt, are said in
// the singular.
func TestDescribeOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{ReadQPS: 25, WriteQPS: 10})
		refuse(t, p.Limiter(Write), perMinute("svc/writes", 1))
		if got := p.Describe(); !strings.Contains(got, "; 1 request per minute (RequestsPerMinutePerUser) for writes") {
			t.Errorf("Describe() = %q", got)
		}
	})
	if got := (&ExhaustedError{Attempts: 1, Err: errQuota}).Error(); !strings.HasPrefix(got, "gave up after 1 attempt: ") {
		t.Errorf("ExhaustedError = %q", got)
	}
}
