package pace

import (
	"container/heap"
	"testing"
	"time"
)

// BenchmarkQuota runs the pacer against the simulated servers of
// TestAgainstSimulatedServer (simCases: per-minute quotas, rolling or fixed,
// shared or not, with the limit's details or bare 429s), ten minutes from a
// cold start each, and reports the ratios of issue 9:
//
//   - share-of-allowed: calls the server took / calls its quotas allowed
//     (target >= 0.87);
//   - %refused: refused calls / calls made (target <= 3%).
//
// testing/synctest needs a *testing.T, so the benchmark drives the pacer's
// decisions on a virtual clock (a discrete-event simulation of 64 workers
// per class) rather than through Wait; the tests run the same servers
// through Window and Do in a synctest bubble.
func BenchmarkQuota(b *testing.B) {
	for _, tc := range simCases {
		b.Run(tc.name, func(b *testing.B) {
			var r simRun
			for b.Loop() {
				r = simulateEvents(tc, 10*time.Minute)
			}
			b.ReportMetric(r.share(), "share-of-allowed")
			b.ReportMetric(100*r.refusedShare(), "%refused")
		})
	}
}

// The kinds of simulated event.
const (
	evTurn    = iota // a class may admit a call
	evArrive         // a call reaches the server
	evRespond        // its answer reaches the caller
)

type simEvent struct {
	at   time.Duration
	seq  int // ties in order of scheduling
	kind int
	c    Class
	tk   ticket
	err  error
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simulateEvents runs tc's server for d of virtual time against a Pacer
// with invitectl's default caps, 64 workers per class with unbounded demand.
func simulateEvents(tc simCase, d time.Duration) simRun {
	const workers = 64
	s := tc.server()
	var now time.Duration
	p := New(Config{ReadQPS: 25, WriteQPS: 10})
	p.t0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(tc.offset)
	p.clock = func() time.Duration { return now }
	jitter := SeededRand(3)
	latency := func() time.Duration { return time.Duration((1 + jitter()) * float64(s.latency)) }

	var (
		q    eventQueue
		seq  int
		free [numClasses]int
		due  [numClasses]time.Duration // the pending evTurn of each class; -1: none
	)
	push := func(e simEvent) {
		seq++
		e.seq = seq
		heap.Push(&q, e)
	}
	for c := range due {
		due[c] = -1
	}
	for _, c := range tc.classes {
		free[c] = workers
	}
	// turn admits what the pacer lets go now, and schedules the next turn.
	turn := func(c Class) {
		cs := p.classes[c]
		for free[c] > 0 {
			p.mu.Lock()
			at, probe := p.earliest(cs, cs.g, now, true)
			if at > now {
				p.mu.Unlock()
				if due[c] != at {
					due[c] = at
					push(simEvent{at: at, kind: evTurn, c: c})
				}
				return
			}
			tk := p.admit(cs, cs.g, now, probe)
			p.mu.Unlock()
			free[c]--
			push(simEvent{at: now + latency(), kind: evArrive, c: c, tk: tk})
		}
	}

	var half [2]int
	halfTaken := false
	for _, c := range tc.classes {
		turn(c)
	}
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		if e.at >= d {
			break
		}
		if !halfTaken && e.at >= d/2 {
			half, halfTaken = s.totals(), true
		}
		now = e.at
		switch e.kind {
		case evTurn:
			if due[e.c] != e.at {
				continue // superseded
			}
			due[e.c] = -1
		case evArrive:
			push(simEvent{at: now + latency(), kind: evRespond, c: e.c, tk: e.tk, err: s.admit(e.c, p.wall(now))})
		case evRespond:
			if e.err != nil {
				p.rejected(e.tk, simClassify(e.err), e.err)
			} else {
				p.succeeded(e.tk)
			}
			free[e.c]++
		}
		for _, c := range tc.classes {
			turn(c)
		}
	}
	return s.measure(tc.classes, p.t0, d, half, p)
}

// The event simulation is the benchmark's; this keeps it honest: it must
// agree with the synctest runs on the easy cases.
func TestEventSimulationAgrees(t *testing.T) {
	for _, tc := range simCases {
		r := simulateEvents(tc, 10*time.Minute)
		t.Logf("%s: %v", tc.name, r)
		if r.share() < 0.85 || r.refusedShare() > 0.05 {
			t.Errorf("%s: %.3f of the allowed throughput, %.2f%% refused", tc.name, r.share(), 100*r.refusedShare())
		}
	}
}
