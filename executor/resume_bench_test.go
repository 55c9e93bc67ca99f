package executor

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitectl/invitectl/internal/benchfiles"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/pace"
)

// firstSend is a client that answers every read as an empty tenant would
// and records when the first send arrives, then stops the run.
type firstSend struct {
	once  sync.Once
	at    time.Time
	stop  context.CancelFunc
	sends int
}

func (f *firstSend) Get(context.Context, string) (invitations.Invitation, error) {
	return invitations.Invitation{}, &invitations.Error{Kind: invitations.KindNotFound, HTTPCode: 404}
}

func (f *firstSend) List(_ context.Context, _ invitations.ListOptions, page func([]invitations.Invitation) error) error {
	return page(nil)
}

func (f *firstSend) Send(context.Context, string) (invitations.Result, error) {
	f.once.Do(func() { f.at = time.Now(); f.stop() })
	return invitations.Result{Operation: "operations/x"}, nil
}

func (f *firstSend) Cancel(ctx context.Context, email string) (invitations.Result, error) {
	return f.Send(ctx, email)
}

// BenchmarkResumeMillion is issue 9's resume target: a journal of
// 1,000,000 items, half of them done, resumed as 'invitectl resume' does
// (Open: the plan read and verified once, the journal and the ledger read;
// the refresh; Apply skipping what is done). Targets: the first send within
// 3 s, and at most 400 MB peak RSS. The client answers at once, so what is
// measured is invitectl's own cost.
func BenchmarkResumeMillion(b *testing.B) {
	dir := b.TempDir()
	_, results, err := benchfiles.Write(dir, customer, 1_000_000, 500_000)
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(results)
	if err != nil {
		b.Fatal(err)
	}
	var first time.Duration
	var peak, base, cpu float64
	for b.Loop() {
		state := b.TempDir()
		base = max(base, settle())
		resetPeak()
		start, cpu0 := time.Now(), cpuSeconds()
		h, err := journal.ReadHeader(results) // as resume finds the plan
		if err != nil {
			b.Fatal(err)
		}
		run, err := Open(OpenConfig{Plan: h.Plan.Path, Results: results, StateDir: state, Command: "resume"})
		if err != nil {
			b.Fatal(err)
		}
		tOpen := time.Since(start)
		ctx, cancel := context.WithCancel(context.Background())
		c := &firstSend{stop: cancel}
		toRef := run.ToRefresh(false)
		tTo := time.Since(start)
		ref, err := Refresh(ctx, RefreshConfig{Client: c, Listed: run.Plan.Header.Listed}, toRef)
		tRef := time.Since(start)
		b.Logf("TIMING open %v toRefresh %v refresh %v", tOpen, tTo, tRef)
		if err != nil {
			b.Fatal(err)
		}
		err = Apply(ctx, Config{Client: c, Journal: run.Journal, Resume: run.Resume, Write: pace.NewLimiter(0), Read: pace.NewLimiter(0),
			Ledger: run.Ledger, Source: run.Source, PlanCreated: run.Plan.Header.CreatedAt, Moved: ref.Moved, Drain: time.Second}, run.Items(), nil)
		peak = max(peak, procStatusMiB("VmHWM"))
		cpu += cpuSeconds() - cpu0
		if c.at.IsZero() {
			b.Fatalf("no send: %v", err)
		}
		first += c.at.Sub(start)
		_ = run.Close()
		cancel()
		// The next iteration resumes the same half-done journal: take back
		// what this one appended.
		b.StopTimer()
		if err := os.Truncate(results, fi.Size()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-send-s")
	b.ReportMetric(first.Seconds()/float64(b.N)/3, "first-send/3s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(peak/400, "peak/400MB")
	b.ReportMetric(base, "base-RSS-MiB")
}

// settle collects garbage, returns the freed memory to the OS and reports
// the resident set in MiB.
func settle() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatusMiB("VmRSS")
}

// resetPeak restarts VmHWM from the current RSS (Linux clear_refs "5").
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// cpuSeconds is the CPU time the process has used, user and system, from
// /proc/self/stat (in ticks of 1/100 s); 0 when it cannot (not Linux).
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command (in parentheses, which may hold spaces):
	// utime and stime are the 12th and 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// procStatusMiB reads a kB field of /proc/self/status in MiB; 0 when it
// cannot (not Linux).
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
