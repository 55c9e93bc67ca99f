package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
)

// millionFiles writes, once per test binary, a plan of n send items and a
// journal in which the first half are done, as a campaign interrupted half
// way leaves them.
var millionFiles = sync.OnceValues(func() (string, error) {
	const n = 1_000_000
	dir, err := os.MkdirTemp("", "invitectl-bench-million-")
	if err != nil {
		return "", err
	}
	plan := filepath.Join(dir, "plan.jsonl")
	w, err := planner.CreateFile(plan)
	if err != nil {
		return "", err
	}
	defer w.Close()
	created := time.Now().Add(-time.Hour).UTC()
	hdr := planner.Header{Kind: planner.Kind, Version: planner.Version, Customer: customer, APIVersion: "v1", CreatedAt: created,
		Policy:  planner.Policy{Action: planner.WantInvite},
		Listed:  map[invitations.State]int{invitations.StateNotYetSent: n},
		Summary: planner.Summary{Reasons: map[string]int{}}}
	upd := created.Add(-30 * 24 * time.Hour)
	for i := range n {
		it := planner.Item{Row: i + 2, Email: fmt.Sprintf("person%07d@example.com", i), Action: planner.ActionSend,
			Reason: planner.ReasonNotYetSent, Observed: &planner.Observed{State: invitations.StateNotYetSent, UpdateTime: upd}}
		hdr.Summary.Add(it)
		if err := w.Emit(it); err != nil {
			return "", err
		}
	}
	if _, err := w.Commit(hdr); err != nil {
		return "", err
	}
	p, err := planner.Load(plan)
	if err != nil {
		return "", err
	}
	j, err := journal.Create(filepath.Join(dir, "plan.results.jsonl"), journal.Header{Customer: customer, APIVersion: "v1",
		LedgerSource: "0123456789abcdef", Plan: journal.PlanRef{Path: plan, SHA256: p.SHA256, Items: n}})
	if err != nil {
		return "", err
	}
	at := time.Now().Add(-30 * time.Minute).UTC()
	for i := range n / 2 {
		it := p.Items[i]
		j.AppendAsync(
			journal.Record{Type: journal.TypeIntent, At: at, Row: it.Row, Email: it.Email, Action: "send", Reason: it.Reason, Attempt: 1},
			journal.Record{Type: journal.TypeOutcome, At: at, Row: it.Row, Email: it.Email, Action: "send", Reason: it.Reason,
				Outcome: journal.OutcomeDone, Attempts: 1, Operation: "operations/" + strconv.Itoa(i), Detail: "state INVITED, 1 mail(s) sent"})
	}
	if err := j.Close(); err != nil {
		return "", err
	}
	fi, err := os.Stat(filepath.Join(dir, "plan.results.jsonl"))
	if err != nil {
		return "", err
	}
	millionJournalSize = fi.Size()
	return dir, nil
})

// millionJournalSize is the size of the journal millionFiles wrote.
var millionJournalSize int64

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
	dir, err := millionFiles()
	if err != nil {
		b.Fatal(err)
	}
	var first time.Duration
	var peak, base float64
	for b.Loop() {
		state := b.TempDir()
		base = max(base, settle())
		resetPeak()
		start := time.Now()
		run, err := Open(OpenConfig{Plan: filepath.Join(dir, "plan.jsonl"), Results: filepath.Join(dir, "plan.results.jsonl"), StateDir: state, Command: "resume"})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := &firstSend{stop: cancel}
		ref, err := Refresh(ctx, RefreshConfig{Client: c, Listed: run.Plan.Header.Listed}, run.ToRefresh(false))
		if err != nil {
			b.Fatal(err)
		}
		err = Apply(ctx, Config{Client: c, Journal: run.Journal, Resume: run.Resume, Write: pace.NewLimiter(0), Read: pace.NewLimiter(0),
			Ledger: run.Ledger, Source: run.Source, PlanCreated: run.Plan.Header.CreatedAt, Moved: ref.Moved, Drain: time.Second}, run.Items(), nil)
		peak = max(peak, procStatusMiB("VmHWM"))
		if c.at.IsZero() {
			b.Fatalf("no send: %v", err)
		}
		first += c.at.Sub(start)
		_ = run.Close()
		cancel()
		// The next iteration resumes the same half-done journal: take back
		// what this one appended.
		b.StopTimer()
		restoreJournal(b, dir)
		b.StartTimer()
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-send-s")
	b.ReportMetric(first.Seconds()/float64(b.N)/3, "first-send/3s")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(peak/400, "peak/400MB")
	b.ReportMetric(base, "base-RSS-MiB")
}

// restoreJournal cuts the journal back to the records millionFiles wrote.
func restoreJournal(b *testing.B, dir string) {
	if err := os.Truncate(filepath.Join(dir, "plan.results.jsonl"), millionJournalSize); err != nil {
		b.Fatal(err)
	}
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
