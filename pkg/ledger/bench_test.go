package ledger

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// writeBig writes a ledger of records records: one source per 10,000
// addresses, and for each address an intent and its outcome, all within the
// last day.
func writeBig(tb testing.TB, dir string, records int) {
	tb.Helper()
	f, err := os.Create(Path(dir, cust))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "%s\t%d\t%s\n", magic, Version, cust)
	now := time.Now().UnixMilli()
	for i := 0; i < records/2; i++ {
		if i%10000 == 0 {
			fmt.Fprintf(w, "src\t%016x\t%d\t%d\tapply\t%064x\t%q\t%q\n", i, now, 4242, i, "/plans/campaign.jsonl", fmt.Sprintf("/plans/campaign-%d.results.jsonl", i))
		}
		at := now - int64(records/2-i)
		fmt.Fprintf(w, "i\t%d\t%016x\ts\tuser%07d@example.org\n", at, i/10000*10000, i)
		fmt.Fprintf(w, "o\t%d\t%016x\ts\tuser%07d@example.org\ty\n", at+1, i/10000*10000, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	_ = f.Close()
}

// BenchmarkLoadAndLookup1M is the cost the ledger adds to planning a
// 1,000,000-row campaign with a ledger of 1,000,000 records: open (read
// everything) and look every row up (half of them are in the ledger).
// Target: at most 2 s on 2 cores.
func BenchmarkLoadAndLookup1M(b *testing.B) {
	dir := b.TempDir()
	const records, rows = 1_000_000, 1_000_000
	writeBig(b, dir, records)
	emails := make([]string, rows)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%07d@example.org", i)
	}
	b.ResetTimer()
	for b.Loop() {
		l, err := Open(dir, cust, Options{Since: time.Now().Add(-72 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		hits := 0
		for _, e := range emails {
			if _, ok := l.Latest(e); ok {
				hits++
			}
		}
		_ = l.Close()
		if hits != records/2 {
			b.Fatalf("%d hits, want %d", hits, records/2)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/plan")
}

// BenchmarkReserve measures group-committed intents on disk: records per
// fsync and reserves per second with 64 concurrent callers.
func BenchmarkReserve(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "s")
	l, err := Open(dir, cust, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	src := journalSource("bench")
	b.SetParallelism(32)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := l.Reserve(b.Context(), Claim{Source: src, Email: fmt.Sprintf("u%09d@example.org", i), Action: Send}); err != nil {
				b.Error(err)
			}
		}
	})
	recs, syncs := l.Stats()
	b.ReportMetric(float64(recs)/float64(max(syncs, 1)), "records/fsync")
}
