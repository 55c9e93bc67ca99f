package pace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// simServer enforces per-minute quotas the way Google does (issue 9): each
// class's calls count against a metric, in a rolling window or in fixed
// wall-clock windows; a call over quota is refused with a 429 that carries
// the limit's metadata (or, without details, nothing) and no Retry-After.
// Refused calls do not count. Time is the synctest bubble's.
type simServer struct {
	fixed   bool
	details bool
	latency time.Duration // one way: calls reach the server after it
	jitter  func() float64
	faults  float64 // share of calls refused at random, without details
	dice    func() float64

	mu       sync.Mutex
	quota    [numClasses]*simQuota
	accepted [numClasses]int
	refused  [numClasses]int
	over     int // windows that held more than the limit (never, if the server is right)
}

type simQuota struct {
	metric, name string
	limit        int
	win          time.Duration
	times        []time.Time // calls taken in the current window
}

// errSimQuota is the server's 429.
type errSimQuota struct{ lim *Limit }

func (e *errSimQuota) Error() string { return "429 RESOURCE_EXHAUSTED" }

// simClassify is what the API package does with the 429.
func simClassify(err error) Verdict {
	var q *errSimQuota
	if errors.As(err, &q) {
		return Verdict{Retry: true, Quota: true, Limit: q.lim}
	}
	return Verdict{}
}

// newSim returns a server; shared puts both classes on one metric.
func newSim(reads, writes int, shared, fixed, details bool) *simServer {
	s := &simServer{fixed: fixed, details: details, latency: 25 * time.Millisecond, jitter: SeededRand(3), dice: SeededRand(5)}
	if shared {
		q := &simQuota{metric: "svc/requests", name: "RequestsPerMinutePerUser", limit: reads, win: time.Minute}
		s.quota = [numClasses]*simQuota{q, q}
	} else {
		s.quota[Read] = &simQuota{metric: "svc/read_requests", name: "ReadsPerMinutePerUser", limit: reads, win: time.Minute}
		s.quota[Write] = &simQuota{metric: "svc/write_requests", name: "WritesPerMinutePerUser", limit: writes, win: time.Minute}
	}
	return s
}

func (s *simServer) call(ctx context.Context, c Class) error {
	// Up to 2× the latency each way: calls can overtake each other.
	time.Sleep(time.Duration((1 + s.jitter()) * float64(s.latency)))
	err := s.admit(c, time.Now())
	time.Sleep(time.Duration((1 + s.jitter()) * float64(s.latency)))
	return err
}

func (s *simServer) admit(c Class, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults > 0 && s.dice() < s.faults {
		s.refused[c]++
		return &errSimQuota{}
	}
	q := s.quota[c]
	if q.limit == 0 {
		s.accepted[c]++
		return nil
	}
	if s.fixed {
		start := now.Truncate(q.win)
		for len(q.times) > 0 && q.times[0].Before(start) {
			q.times = q.times[1:]
		}
	} else {
		for len(q.times) > 0 && !q.times[0].After(now.Add(-q.win)) {
			q.times = q.times[1:]
		}
	}
	if len(q.times) >= q.limit {
		s.refused[c]++
		var lim *Limit
		if s.details {
			lim = &Limit{Metric: q.metric, Name: q.name, Value: int64(q.limit), Window: q.win, Help: "https://example.com/quota"}
		}
		return &errSimQuota{lim}
	}
	q.times = append(q.times, now)
	s.accepted[c]++
	return nil
}

// simRun is what one simulation measured.
type simRun struct {
	accepted, refused [numClasses]int
	first             [2]int  // accepted and refused in the first minute
	late              [2]int  // accepted and refused in the second half of the run
	allowed           float64 // calls the quotas allowed in the run
	lateAllowed       float64 // in its second half
	desc              string
}

func (r simRun) share() float64 {
	return float64(r.accepted[Read]+r.accepted[Write]) / r.allowed
}

func (r simRun) refusedShare() float64 {
	a, f := r.accepted[Read]+r.accepted[Write], r.refused[Read]+r.refused[Write]
	return float64(f) / float64(a+f)
}

func (r simRun) String() string {
	return fmt.Sprintf("accepted %v, refused %v: %.3f of the allowed throughput, %.2f%% refused; second half: %d accepted, %d refused of %.0f allowed; %s",
		r.accepted, r.refused, r.share(), 100*r.refusedShare(), r.late[0], r.late[1], r.lateAllowed, r.desc)
}

// simulate runs 64 workers per class with unbounded demand for d, paced by
// a Pacer with invitectl's default caps (25 reads/s, 10 writes/s) and
// Window, against s. Call it inside a synctest bubble.
func simulate(s *simServer, classes []Class, d time.Duration, st *State) (simRun, *Pacer) {
	p := New(Config{ReadQPS: 25, WriteQPS: 10, State: st})
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var first, half [2]int
	var wg sync.WaitGroup
	wg.Go(func() { // d >= 2 minutes
		time.Sleep(time.Minute)
		first = s.totals()
		time.Sleep(d/2 - time.Minute)
		half = s.totals()
	})
	for _, c := range classes {
		w := NewWindow(p.Limiter(c), 64)
		for range 64 {
			wg.Go(func() {
				for ctx.Err() == nil {
					w.Do(ctx, Policy{MaxAttempts: 1000}, simClassify, func(ctx context.Context) error { return s.call(ctx, c) })
				}
			})
		}
	}
	wg.Wait()
	r := s.measure(classes, p.t0, d, half, p)
	r.first = first
	return r, p
}

// totals is what the server accepted and refused so far.
func (s *simServer) totals() [2]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return [2]int{s.accepted[Read] + s.accepted[Write], s.refused[Read] + s.refused[Write]}
}

func (s *simServer) measure(classes []Class, start time.Time, d time.Duration, half [2]int, p *Pacer) simRun {
	end := s.totals()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := simRun{accepted: s.accepted, refused: s.refused, desc: p.Describe(), late: [2]int{end[0] - half[0], end[1] - half[1]}}
	seen := map[*simQuota]bool{}
	for _, c := range classes {
		if q := s.quota[c]; !seen[q] && q.limit > 0 {
			seen[q] = true
			windows := d.Seconds() / q.win.Seconds()
			if s.fixed { // every window the run touched
				windows = 0
				for w := start.Truncate(q.win); w.Before(start.Add(d)); w = w.Add(q.win) {
					windows++
				}
			}
			r.allowed += float64(q.limit) * windows
			r.lateAllowed += float64(q.limit) * d.Seconds() / 2 / q.win.Seconds()
		}
	}
	if r.allowed == 0 { // no quota: the caps
		for _, c := range classes {
			r.allowed += p.classes[c].qps * d.Seconds()
		}
		r.lateAllowed = r.allowed / 2
	}
	return r
}

// prefill fills the window of c's quota as an earlier run would have.
func (s *simServer) prefill(c Class, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.quota[c]
	for range q.limit {
		q.times = append(q.times, now)
	}
}

// simCase is one server of the simulations: the tests and the benchmarks
// run the same ones.
type simCase struct {
	name                   string
	offset                 time.Duration // from the start of a minute
	reads, writes          int           // per minute; one limit for both when shared
	shared, fixed, details bool
	classes                []Class
}

var simCases = []simCase{
	{"rolling/shared/details", 0, 120, 0, true, false, true, []Class{Read, Write}},
	{"rolling/shared/bare", 0, 120, 0, true, false, false, []Class{Read, Write}},
	{"rolling/separate/details", 0, 120, 60, false, false, true, []Class{Read, Write}},
	{"rolling/separate/bare", 0, 120, 60, false, false, false, []Class{Read, Write}},
	{"fixed/shared/details", 0, 120, 0, true, true, true, []Class{Read, Write}},
	{"fixed/shared/bare", 0, 120, 0, true, true, false, []Class{Read, Write}},
	{"fixed/separate/details", 0, 120, 180, false, true, true, []Class{Read, Write}},
	{"fixed/separate/bare", 0, 120, 180, false, true, false, []Class{Read, Write}},
	{"rolling/60 per minute/details", 0, 60, 0, true, false, true, []Class{Read, Write}},
	{"rolling/60 per minute/bare", 0, 60, 0, true, false, false, []Class{Read, Write}},
	{"fixed/writes only/details", 0, 120, 180, false, true, true, []Class{Write}},
	{"fixed/writes only/bare", 0, 120, 180, false, true, false, []Class{Write}},
	// A rolling count of a fixed window's refusal counts two minutes' calls.
	{"fixed/writes only/bare/mid-minute", 46200 * time.Millisecond, 120, 180, false, true, false, []Class{Write}},
}

func (c simCase) server() *simServer {
	return newSim(c.reads, c.writes, c.shared, c.fixed, c.details)
}

// Against per-minute quotas (rolling or fixed, shared by reads and writes or
// not, with the limit's details or bare 429s), ten minutes from a cold
// start: the pacer stays under the limit once it learned it, with few
// refusals, close to the allowed throughput. The benchmarks report the same
// ratios (BenchmarkQuota); the bounds here are looser.
func TestAgainstSimulatedServer(t *testing.T) {
	for _, tc := range simCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(tc.offset)
				r, _ := simulate(tc.server(), tc.classes, 10*time.Minute, nil)
				t.Log(r)
				if r.share() < 0.85 || r.share() > 1.0 {
					t.Errorf("%.3f of the allowed throughput, want 0.85 to 1", r.share())
				}
				if r.refusedShare() > 0.05 {
					t.Errorf("%.2f%% of calls refused, want at most 5%%", 100*r.refusedShare())
				}
				// Converged: the second half goes at the limit, not over it.
				if got := float64(r.late[0]+r.late[1]) / r.lateAllowed; got > 1.02 || got < 0.9 {
					t.Errorf("second half: %d calls for %.0f allowed", r.late[0]+r.late[1], r.lateAllowed)
				}
				if r.late[1] > int(0.03*r.lateAllowed) {
					t.Errorf("second half: %d refused", r.late[1])
				}
			})
		})
	}
}

// Lone refusals (5% of calls refused at random, bare) do not collapse the
// pace: without a quota the caps are kept, with one the limit.
func TestSimulatedFaultsDoNotCollapse(t *testing.T) {
	for _, tc := range []struct {
		name string
		sim  simCase
		min  float64 // share of the allowed throughput
	}{
		{"no quota", simCase{shared: true}, 0.85},
		{"separate quotas, bare", simCase{reads: 120, writes: 60}, 0.8},
		{"separate quotas, details", simCase{reads: 120, writes: 60, details: true}, 0.8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := tc.sim.server()
				s.faults = 0.05
				r, _ := simulate(s, []Class{Read, Write}, 10*time.Minute, nil)
				t.Log(r)
				if r.share() < tc.min {
					t.Errorf("%.3f of the allowed throughput, want at least %.2f", r.share(), tc.min)
				}
			})
		})
	}
}

// A run that starts while the window is still full of an earlier run's
// calls waits for them to leave, then paces as usual, instead of learning a
// limit from a window it did not see.
func TestSimulatedEarlierRun(t *testing.T) {
	for _, details := range []bool{true, false} {
		t.Run(fmt.Sprint("details ", details), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSim(120, 60, false, false, details)
				s.prefill(Read, time.Now())
				r, _ := simulate(s, []Class{Read}, 10*time.Minute, nil)
				t.Log(r)
				// The first minute belonged to the earlier run.
				if r.share() < 0.85 || r.refusedShare() > 0.03 {
					t.Errorf("%.3f of the allowed throughput, %.2f%% refused", r.share(), 100*r.refusedShare())
				}
			})
		})
	}
}

// resume starts from what the first run learned: at the learned pace from
// its first call, with no burst and no refusal.
func TestSimulatedResumeFromState(t *testing.T) {
	for _, tc := range simCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, p := simulate(tc.server(), tc.classes, 5*time.Minute, nil)
				b, err := json.Marshal(p.State())
				if err != nil {
					t.Fatal(err)
				}
				var st State
				if err := json.Unmarshal(b, &st); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Minute) // the windows empty
				s := tc.server()
				r, p2 := simulate(s, tc.classes, 5*time.Minute, &st)
				t.Logf("%s\n%s", b, r)
				// No cold start: the first minute goes at the limit, with
				// hardly a refusal.
				if r.first[0]+r.first[1] > int(r.allowed/5) || r.first[1] > 1 {
					t.Errorf("first minute after resuming: %d accepted, %d refused, of %.0f allowed", r.first[0], r.first[1], r.allowed/5)
				}
				if r.share() < 0.9 || r.refusedShare() > 0.03 {
					t.Errorf("%.3f of the allowed throughput after resuming, %.2f%% refused", r.share(), 100*r.refusedShare())
				}
				if got, want := p2.Describe(), p.Describe(); !tc.details && got == "" || tc.details && got != want {
					t.Errorf("resumed pacer says %q, the first said %q", got, want)
				}
			})
		})
	}
}
