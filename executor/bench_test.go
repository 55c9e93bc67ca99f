package executor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/planner"
)

// The executor's benchmarks (issue 4, section 5), each one whole apply per
// iteration against a fresh emulator:
//
//	go test -run='^$' -bench=. -benchtime=1x ./executor/
//
// (a) and (b) pace against the emulator's write quota over a real socket and
// take one to two minutes each; (c) measures the executor's own cost. The
// metrics are ratios against the ideal; -short runs smaller campaigns.

// benchEnv is one emulator world of n unmanaged NOT_YET_SENT accounts and
// a plan that sends to each of them.
type benchEnv struct {
	srv  *emulator.Server
	plan string
	dir  string
	n    int
}

// newBenchEnv builds the world, serves it with cfg, and plans against a
// fault-free, unthrottled twin in process (planning is not measured).
func newBenchEnv(b *testing.B, n int, cfg emulator.Config) *benchEnv {
	b.Helper()
	w := emulator.World{Customer: customer}
	var in strings.Builder
	in.WriteString("email\n")
	for i := range n {
		email := fmt.Sprintf("bench%06d@example.com", i)
		w.Users = append(w.Users, emulator.User{Email: email})
		in.WriteString(email + "\n")
	}
	twin, err := emulator.New(w, emulator.Config{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := emulator.New(w, cfg)
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{srv: srv, dir: b.TempDir(), n: n}
	e.plan = filepath.Join(e.dir, "plan.jsonl")

	pc, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: "http://emulator.invalid", Transport: twin.Transport()})
	if err != nil {
		b.Fatal(err)
	}
	fw, err := planner.CreateFile(e.plan)
	if err != nil {
		b.Fatal(err)
	}
	defer fw.Close()
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.Read(strings.NewReader(in.String()), "campaign.csv", source.Options{}, fn)
	}
	hdr, err := planner.Build(context.Background(), planner.Config{Client: pc, Customer: customer, APIVersion: "v1",
		Policy: planner.Policy{Action: planner.WantInvite}}, targets, nil, fw.Emit)
	if err != nil {
		b.Fatal(err)
	}
	if hdr.Summary.Send != n {
		b.Fatalf("plan has %+v, want %d sends", hdr.Summary, n)
	}
	if _, err := fw.Commit(hdr); err != nil {
		b.Fatal(err)
	}
	return e
}

// benchRun is what one apply measured.
type benchRun struct {
	elapsed          time.Duration
	stats            *Stats
	records, fsyncs  int
	calls, rejected  int // the emulator's send calls and write-quota 429s
	decreases        uint64
	finalRate        float64
	maxSends, missed int // per account: most sends, accounts never sent to
	// per item, from the journal: most attempts (against the retry
	// budget) and most 429s
	maxAttempts, maxQuota int
}

// apply runs one timed Apply of the plan with a fresh journal, through
// transport (nil: a real socket to the emulator), and checks that every
// planned address got exactly one email.
func (e *benchEnv) apply(b *testing.B, write *pace.Limiter, transport http.RoundTripper) benchRun {
	b.Helper()
	endpoint := "http://emulator.invalid"
	if transport == nil {
		hs := httptest.NewServer(e.srv)
		defer hs.Close()
		endpoint = hs.URL
	}
	client, err := invitations.New(context.Background(), invitations.Config{Customer: customer, Endpoint: endpoint, Transport: transport})
	if err != nil {
		b.Fatal(err)
	}
	r, err := planner.OpenFile(e.plan)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	path := filepath.Join(e.dir, fmt.Sprintf("plan.results.%d.jsonl", time.Now().UnixNano()))
	j, err := journal.Create(path,
		journal.Header{Plan: journal.PlanRef{Path: e.plan}, Customer: customer, APIVersion: "v1"})
	if err != nil {
		b.Fatal(err)
	}
	before := e.srv.State()
	stats := new(Stats)
	// As `invitectl apply` wires it: default retry policy and worker cap.
	cfg := Config{Client: client, Journal: j, Write: write, Read: pace.NewLimiter(0)}
	b.StartTimer()
	start := time.Now()
	err = Apply(context.Background(), cfg, PlanItems(r), stats)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	after := e.srv.State()
	run := benchRun{elapsed: elapsed, stats: stats, decreases: write.Stats().Decreases, finalRate: write.Rate(),
		calls:    after.Calls["send"] - before.Calls["send"],
		rejected: after.QuotaRejections["write"] - before.QuotaRejections["write"]}
	run.records, run.fsyncs = j.Stats()
	st, err := journal.Read(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range st.Finals() {
		run.maxAttempts = max(run.maxAttempts, rec.Attempts) // calls made, 429s included
		run.maxQuota = max(run.maxQuota, rec.QuotaErrors)
	}
	for i, a := range after.Accounts {
		d := a.Sends - before.Accounts[i].Sends
		run.maxSends = max(run.maxSends, d)
		if d == 0 {
			run.missed++
		}
	}
	if run.maxSends > 1 || run.missed > 0 || stats.Done.Load() != int64(e.n) {
		b.Errorf("done %d of %d (failed %d, in doubt %d); %d accounts never sent to, up to %d sends to one",
			stats.Done.Load(), e.n, stats.Failed.Load(), stats.InDoubt.Load(), run.missed, run.maxSends)
	}
	return run
}

// totals sums the runs of a benchmark's iterations (b.N may exceed 1 when
// an apply takes under -benchtime), so its metrics cover all of them.
type totals struct {
	elapsed                      time.Duration
	done, notDone, fsyncs        int64
	calls, rejected, maxAttempts int
}

func (t *totals) add(run benchRun) {
	t.elapsed += run.elapsed
	t.done += run.stats.Done.Load()
	t.notDone += run.stats.Failed.Load() + run.stats.InDoubt.Load() + run.stats.Rejected.Load()
	t.fsyncs += int64(run.fsyncs)
	t.calls += run.calls
	t.rejected += run.rejected
	t.maxAttempts = max(t.maxAttempts, run.maxAttempts)
}

func (t *totals) perSec() float64 { return float64(t.done) / t.elapsed.Seconds() }

// report adds the metrics common to every benchmark; quota > 0 adds those
// against the emulator's write quota.
func (t *totals) report(b *testing.B, quota float64) {
	if quota > 0 {
		b.ReportMetric(t.perSec()/quota, "achieved/allowed")
		b.ReportMetric(float64(t.rejected)/float64(t.calls), "rejections/call")
		b.ReportMetric(float64(t.rejected)/float64(b.N), "429s/apply")
	}
	b.ReportMetric(t.elapsed.Seconds()/float64(b.N), "s/apply")
	b.ReportMetric(t.perSec(), "items/s")
	b.ReportMetric(float64(t.fsyncs)/float64(t.done), "fsyncs/item")
	b.ReportMetric(float64(t.notDone), "not-done")
	b.ReportMetric(float64(t.maxAttempts)/float64(pace.Policy{}.Attempts()), "worst-item-calls/budget")
}

func benchSize(long, short int) int {
	if testing.Short() {
		return short
	}
	return long
}

// BenchmarkApplyQuota is (a): the emulator allows 3,000 writes a minute
// (a rolling window, 50/s on average) at 100 ms latency, and apply runs
// with --write-qps 50. Ideal: 50 sends/s and no 429.
func BenchmarkApplyQuota(b *testing.B) {
	const quota = 50
	n := benchSize(5000, 1000)
	b.StopTimer()
	var t totals
	for range b.N {
		e := newBenchEnv(b, n, emulator.Config{Quota: emulator.Quota{WritesPerMinute: quota * 60}, Latency: 100 * time.Millisecond})
		run := e.apply(b, pace.New(pace.Config{WriteQPS: quota}).Limiter(pace.Write), nil)
		t.add(run)
		achieved := float64(run.stats.Done.Load()) / run.elapsed.Seconds()
		b.Logf("%d sends in %v: %.2f/s of %d/s allowed, %d calls, %d rejected, %d rate cuts, rate now %.1f/s, %d fsyncs for %d records",
			n, run.elapsed.Round(time.Millisecond), achieved, quota, run.calls, run.rejected, run.decreases, run.finalRate, run.fsyncs, run.records)
	}
	t.report(b, quota)
}

// BenchmarkApplyOverQuota is (b): the emulator allows 1,200 writes a
// minute (20/s on average), apply runs with --write-qps 100; the pacer must
// learn the quota from the 429s. Ideal: 20 sends/s, every item done.
func BenchmarkApplyOverQuota(b *testing.B) {
	const quota, ours = 20, 100
	n := benchSize(1500, 400)
	b.StopTimer()
	var t totals
	for range b.N {
		e := newBenchEnv(b, n, emulator.Config{Quota: emulator.Quota{WritesPerMinute: quota * 60}, Latency: 100 * time.Millisecond})
		run := e.apply(b, pace.New(pace.Config{WriteQPS: ours}).Limiter(pace.Write), nil)
		t.add(run)
		achieved := float64(run.stats.Done.Load()) / run.elapsed.Seconds()
		b.Logf("%d sends in %v: %.2f/s of %d/s allowed (limiter target %d/s), %d calls, %d rejected, %d rate cuts, rate now %.1f/s; worst item: %d calls, %d of them 429s (budget %d)",
			n, run.elapsed.Round(time.Millisecond), achieved, quota, ours, run.calls, run.rejected, run.decreases, run.finalRate,
			run.maxAttempts, run.maxQuota, pace.Policy{}.Attempts())
	}
	t.report(b, quota)
}

// BenchmarkApplyThroughput is (c): no latency, no quota, in process, with
// unlimited limiters, so the executor, the client and the durable journal
// are all that is measured. Target: 2,000 items/s on 2 cores.
func BenchmarkApplyThroughput(b *testing.B) {
	const target = 2000
	n := benchSize(20000, 5000)
	b.StopTimer()
	var t totals
	for range b.N {
		e := newBenchEnv(b, n, emulator.Config{})
		run := e.apply(b, pace.NewLimiter(0), e.srv.Transport())
		t.add(run)
		perSec := float64(run.stats.Done.Load()) / run.elapsed.Seconds()
		b.Logf("%d sends in %v: %.0f items/s, %d fsyncs for %d records (%.3f per item)",
			n, run.elapsed.Round(time.Millisecond), perSec, run.fsyncs, run.records, float64(run.fsyncs)/float64(n))
	}
	t.report(b, 0)
	b.ReportMetric(t.perSec()/target, "items/s/2000")
}
