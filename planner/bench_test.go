package planner

// Benchmarks of issue 3, section 4; results and how to read them are in
// docs/BENCHMARKS.md. Each one runs Build through the real generated client
// against pkg/emulator, as `invitectl plan` does.
//
//	go test -run='^$' -bench=. ./planner/
//	go test -run='^$' -bench=PlanMillion -cpuprofile cpu.out ./planner/

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitectl/invitectl/internal/procstat"
	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

const benchCustomer = "C0bench1"

// benchAddress is the i-th address of a benchmark world and campaign.
func benchAddress(i int) string { return fmt.Sprintf("user%07d@example.com", i) }

// benchWorld builds a world of n addresses; user(i) says what the i-th is
// (ok false: no Google account at all).
func benchWorld(n int, user func(i int) (u emulator.User, ok bool)) emulator.World {
	w := emulator.World{Customer: benchCustomer, Users: make([]emulator.User, 0, n)}
	for i := range n {
		if u, ok := user(i); ok {
			u.Email = benchAddress(i)
			w.Users = append(w.Users, u)
		}
	}
	return w
}

// writeBenchCampaign writes a CSV naming addresses 0..n-1 in order, shaped
// like a Sheets download (BOM, CRLF, mixed case, an extra column).
func writeBenchCampaign(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, "\ufeffEmail Address,Name\r\n")
	for i := range n {
		fmt.Fprintf(w, "User%07d@Example.com,User %d\r\n", i, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// countingReader counts the reads the planner makes, on the client side,
// and times the listing.
type countingReader struct {
	Reader
	checks, pages atomic.Int64
	listing       time.Duration
}

func (c *countingReader) IsInvitable(ctx context.Context, email string) (bool, error) {
	c.checks.Add(1)
	return c.Reader.IsInvitable(ctx, email)
}

func (c *countingReader) List(ctx context.Context, opts invitations.ListOptions, page func([]invitations.Invitation) error) error {
	inner := opts.Pace
	if inner == nil {
		inner = func(ctx context.Context, call func(context.Context) error) error { return call(ctx) }
	}
	opts.Pace = func(ctx context.Context, call func(context.Context) error) error {
		return inner(ctx, func(ctx context.Context) error {
			c.pages.Add(1)
			return call(ctx)
		})
	}
	start := time.Now()
	defer func() { c.listing = time.Since(start) }()
	return c.Reader.List(ctx, opts, page)
}

// planToFile is what `invitectl plan` does after the flags: Build into a
// FileWriter, then Commit. It returns the header and the wall time.
func planToFile(tb testing.TB, cfg Config, input, out string) (Header, time.Duration) {
	tb.Helper()
	targets := func(fn func(source.Target) error) (source.Info, error) {
		return source.ReadFile(input, source.Options{}, fn)
	}
	start := time.Now()
	w, err := CreateFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	hdr, err := Build(context.Background(), cfg, targets, nil, w.Emit)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Commit(hdr); err != nil {
		tb.Fatal(err)
	}
	return hdr, time.Since(start)
}

func mustAdapter(tb testing.TB, cfg invitations.Config) *invitations.Adapter {
	tb.Helper()
	cfg.Customer = benchCustomer
	c, err := invitations.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkPlanQuota plans 100,000 addresses against the emulator over a
// real socket with 20 ms latency and a read quota of 30,000 a minute (500/s
// on average, a rolling window), the planner capped at 500/s. Every address needs isInvitableUser (see quotaUser), so the
// ideal time is (list pages + checks) / 500 s; elapsed/ideal is the target
// metric (<= 1.2). One iteration takes about 200 s.
func BenchmarkPlanQuota(b *testing.B) {
	const (
		rows    = 100_000
		qps     = 500
		latency = 20 * time.Millisecond
	)
	dir := b.TempDir()
	input := filepath.Join(dir, "campaign.csv")
	writeBenchCampaign(b, input, rows)
	world := benchWorld(rows, quotaUser)
	listed, checks := 0, rows
	for _, u := range world.Users {
		if u.Kind != emulator.KindManaged && !u.Recent {
			listed++
		}
	}
	pages := (listed + invitations.MaxPageSize - 1) / invitations.MaxPageSize
	ideal := time.Duration(float64(pages+checks) / qps * float64(time.Second))

	var elapsed, listing time.Duration
	var rejected, calls, failed int
	for b.Loop() {
		// A fresh server per iteration: its bucket starts full, as a real
		// quota does after a quiet minute.
		srv, err := emulator.New(world, emulator.Config{Quota: emulator.Quota{ReadsPerMinute: qps * 60}, Latency: latency})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		c := &countingReader{Reader: mustAdapter(b, invitations.Config{Endpoint: hs.URL})}
		cfg := Config{Client: c, Customer: benchCustomer, APIVersion: "v1", Limiter: pace.New(pace.Config{ReadQPS: qps}).Limiter(pace.Read)}
		hdr, d := planToFile(b, cfg, input, filepath.Join(dir, "plan.jsonl"))
		hs.Close()
		listing += c.listing
		st := srv.State()
		if got := st.Calls["isInvitableUser"] - st.QuotaRejections["read"]; got < checks {
			b.Fatalf("%d checks answered, want %d (calls %v, rejections %v)", got, checks, st.Calls, st.QuotaRejections)
		}
		elapsed += d
		rejected += st.QuotaRejections["read"]
		calls += st.Calls["isInvitableUser"] + st.Calls["list"]
		failed += hdr.Summary.CheckFailed
	}
	n := float64(b.N)
	b.ReportMetric(elapsed.Seconds()/n/ideal.Seconds(), "elapsed/ideal")
	b.ReportMetric(ideal.Seconds(), "ideal-s")
	b.ReportMetric(float64(pages+checks)*n/elapsed.Seconds()/qps, "achieved/allowed")
	b.ReportMetric(float64(rejected)/float64(calls), "429/call")
	b.ReportMetric(float64(failed)/n, "check_failed")
	b.ReportMetric(listing.Seconds()/n, "list-s")
	b.ReportMetric(float64(pages)/qps, "list-ideal-s")
}

// quotaUser is BenchmarkPlanQuota's world: of every 10 addresses, 6 are
// listed NOT_YET_SENT, 2 are recent (unlisted, invitable), 1 is managed
// (unlisted, not invitable) and 1 has no account. So every row is checked
// and 60,000 invitations are listed (300 pages).
func quotaUser(i int) (emulator.User, bool) {
	switch i % 10 {
	case 6, 7:
		return emulator.User{Recent: true}, true
	case 8:
		return emulator.User{Kind: emulator.KindManaged}, true
	case 9:
		return emulator.User{}, false
	}
	return emulator.User{}, true
}

// millionUser is BenchmarkPlanMillion's world, by i % 100: 80% listed
// NOT_YET_SENT, 8% INVITED (half updated 54 days before the planner's clock,
// so resent under --resend-after 720h, half 14 days before), 4% ACCEPTED, 3%
// DECLINED, 3% recent (unlisted), 2% managed (unlisted). 85% of the rows
// need a check; 950,000 invitations are listed (4,750 pages).
func millionUser(i int) (emulator.User, bool) {
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	switch r := i % 100; {
	case r < 80:
		return emulator.User{}, true
	case r < 88:
		t := base.Add(time.Duration(i%2) * 40 * 24 * time.Hour)
		return emulator.User{State: emulator.StateInvited, Mails: 1, UpdateTime: t}, true
	case r < 92:
		return emulator.User{State: emulator.StateAccepted, Mails: 1, UpdateTime: base}, true
	case r < 95:
		return emulator.User{State: emulator.StateDeclined, Mails: 2, UpdateTime: base}, true
	case r < 98:
		return emulator.User{Recent: true}, true
	}
	return emulator.User{Kind: emulator.KindManaged}, true
}

// BenchmarkPlanMillion plans a 1,000,000-row campaign against the
// in-process emulator (no socket, no latency, no quota), reading the CSV
// from disk and writing the plan file through CreateFile/Commit. Targets
// (issue 9): at most 12 s and 800 MB on 2 cores. The peak is the whole
// process's, emulator included; base-RSS-MiB is the process just before
// planning (the emulator's world and the test binary), which a real plan
// against Google does not carry, so the ratio is of the peak above it.
//
// checks=all is the run issue 3 measured and the worst case: every listed
// NOT_YET_SENT row is checked too (--check-listed), 850,000 checks.
// checks=unlisted is what `invitectl plan` does by default: the send
// decides those rows, and only the 50,000 unlisted ones are checked.
func BenchmarkPlanMillion(b *testing.B) {
	b.Run("checks=all", func(b *testing.B) { benchMillion(b, 0, false) })
	b.Run("checks=unlisted", func(b *testing.B) { benchMillion(b, 0, true) })
}

// BenchmarkPlanMillionInFlight is the same run with other MaxInFlight
// values, to check how the window behaves at zero latency.
func BenchmarkPlanMillionInFlight(b *testing.B) {
	if testing.Short() {
		b.Skip("long")
	}
	for _, n := range []int{4, 16, 64, 1024} {
		b.Run("max="+strconv.Itoa(n), func(b *testing.B) { benchMillion(b, n, false) })
	}
}

func benchMillion(b *testing.B, maxInFlight int, trustList bool) {
	const rows = 1_000_000
	dir := b.TempDir()
	input := filepath.Join(dir, "campaign.csv")
	writeBenchCampaign(b, input, rows)
	srv, err := emulator.New(benchWorld(rows, millionUser), emulator.Config{})
	if err != nil {
		b.Fatal(err)
	}
	wantChecks, wantPages := int64(rows*85/100), int64(rows*95/100/invitations.MaxPageSize)
	if trustList {
		wantChecks = rows * 5 / 100
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	policy := Policy{ResendAfter: Duration(30 * 24 * time.Hour), TrustList: trustList}

	var elapsed, listing time.Duration
	var peak, base, cpu float64
	var sum Summary
	for b.Loop() {
		c := &countingReader{Reader: mustAdapter(b, invitations.Config{Endpoint: "http://emulator.invalid", Transport: srv.Transport()})}
		cfg := Config{Client: c, Customer: benchCustomer, APIVersion: "v1", Policy: policy,
			Limiter: pace.NewLimiter(0), MaxInFlight: maxInFlight, Now: func() time.Time { return now }}
		base = max(base, procstat.Settle())
		procstat.ResetPeak()
		cpu0 := procstat.CPUSeconds()
		hdr, d := planToFile(b, cfg, input, filepath.Join(dir, "plan.jsonl"))
		cpu += procstat.CPUSeconds() - cpu0
		peak = max(peak, procstat.PeakMiB())
		elapsed += d
		listing += c.listing
		sum = hdr.Summary
		if c.checks.Load() != wantChecks || c.pages.Load() != wantPages || hdr.Source.Rows != rows || sum.CheckFailed != 0 {
			b.Fatalf("%d checks, %d pages, %d rows, summary %+v", c.checks.Load(), c.pages.Load(), hdr.Source.Rows, sum)
		}
	}
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "wall-s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N)/12, "wall/12s")
	// The CPU seconds over the cores: the wall time of an idle machine,
	// steadier than the wall time of a shared one.
	b.ReportMetric(cpu/float64(b.N), "cpu-s")
	b.ReportMetric(cpu/float64(b.N)/float64(runtime.GOMAXPROCS(0))/12, "cpu-s/cores/12s")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric((peak-base)*(1<<20)/800e6, "(peak-base)/800MB")
	b.ReportMetric(base, "base-RSS-MiB")
	b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(listing.Seconds()/float64(b.N), "list-s")
	b.Logf("summary: %v", sum.Reasons)
}

// BenchmarkReadsPerRow counts the API reads per input row for a campaign
// whose addresses are all listed, with the default policy and with
// --trust-list, when they are all NOT_YET_SENT and when their state
// decides them (INVITED, ACCEPTED, DECLINED in turn). The counts come from
// the emulator's own counters.
func BenchmarkReadsPerRow(b *testing.B) {
	const rows = 10_000
	worlds := []struct {
		name string
		user func(int) (emulator.User, bool)
	}{
		{"listed=not_yet_sent", func(int) (emulator.User, bool) { return emulator.User{}, true }},
		{"listed=deciding", func(i int) (emulator.User, bool) {
			st := []string{emulator.StateInvited, emulator.StateAccepted, emulator.StateDeclined}[i%3]
			return emulator.User{State: st, Mails: 1}, true
		}},
	}
	policies := []struct {
		name string
		p    Policy
	}{
		{"policy=default", Policy{}},
		{"policy=trust-list", Policy{TrustList: true}},
	}
	dir := b.TempDir()
	input := filepath.Join(dir, "campaign.csv")
	writeBenchCampaign(b, input, rows)
	for _, w := range worlds {
		srv, err := emulator.New(benchWorld(rows, w.user), emulator.Config{})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range policies {
			b.Run(w.name+"/"+p.name, func(b *testing.B) {
				var reads, checks, pages int
				for b.Loop() {
					if err := srv.Reset(); err != nil {
						b.Fatal(err)
					}
					c := mustAdapter(b, invitations.Config{Endpoint: "http://emulator.invalid", Transport: srv.Transport()})
					cfg := Config{Client: c, Customer: benchCustomer, APIVersion: "v1", Policy: p.p, Limiter: pace.NewLimiter(0)}
					planToFile(b, cfg, input, filepath.Join(dir, "plan.jsonl"))
					calls := srv.State().Calls
					if calls["send"]+calls["cancel"] != 0 {
						b.Fatalf("planning made mutating calls: %v", calls)
					}
					checks += calls["isInvitableUser"]
					pages += calls["list"]
					reads += calls["isInvitableUser"] + calls["list"] + calls["get"]
				}
				total := float64(rows * b.N)
				b.ReportMetric(float64(reads)/total, "reads/row")
				b.ReportMetric(float64(checks)/total, "checks/row")
				b.ReportMetric(float64(pages)/total, "pages/row")
			})
		}
	}
}
