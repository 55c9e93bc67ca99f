package executor

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/invitectl/invitectl/internal/benchfiles"
	"github.com/invitectl/invitectl/internal/procstat"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
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
// (Open: the plan hashed, then decoded and verified, the journal and the ledger, which
// holds the 1,000,000 records of the first run, read; the confirmation's
// count of what is left; the refresh; Apply skipping what is done). Targets: the first send within
// 3 s, and at most 400 MB peak RSS. The client answers at once, so what is
// measured is invitectl's own cost.
func BenchmarkResumeMillion(b *testing.B) {
	dir, state := b.TempDir(), b.TempDir()
	_, results, err := benchfiles.Write(dir, state, customer, 1_000_000, 500_000)
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(results)
	if err != nil {
		b.Fatal(err)
	}
	led := ledger.Path(state, customer)
	li, err := os.Stat(led)
	if err != nil {
		b.Fatal(err)
	}
	var first, opened time.Duration
	var peak, base, cpu float64
	for b.Loop() {
		base = max(base, procstat.Settle())
		procstat.ResetPeak()
		start, cpu0 := time.Now(), procstat.CPUSeconds()
		h, err := journal.ReadHeader(results) // as resume finds the plan
		if err != nil {
			b.Fatal(err)
		}
		run, err := Open(OpenConfig{Plan: h.Plan.Path, Results: results, StateDir: state, Command: "resume",
			Confirm: func(r *Run) error { _ = r.Work(false); return nil }})
		if err != nil {
			b.Fatal(err)
		}
		opened += time.Since(start)
		ctx, cancel := context.WithCancel(context.Background())
		c := &firstSend{stop: cancel}
		ref, err := Refresh(ctx, RefreshConfig{Client: c, Listed: run.Plan.Header.Listed}, run.ToRefresh(false))
		if err != nil {
			b.Fatal(err)
		}
		err = Apply(ctx, Config{Client: c, Journal: run.Journal, Resume: run.Resume, Write: pace.NewLimiter(0), Read: pace.NewLimiter(0),
			Ledger: run.Ledger, Source: run.Source, PlanCreated: run.Plan.Header.CreatedAt, Moved: ref.Moved, Drain: time.Second}, run.Items(), nil)
		peak = max(peak, procstat.PeakMiB())
		cpu += procstat.CPUSeconds() - cpu0
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
		if err := os.Truncate(led, li.Size()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-send-s")
	b.ReportMetric(first.Seconds()/float64(b.N)/3, "first-send/3s")
	b.ReportMetric(opened.Seconds()/float64(b.N), "open-s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(peak*(1<<20)/400e6, "peak/400MB")
	b.ReportMetric(base, "base-RSS-MiB")
}
