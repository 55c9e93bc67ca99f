package source

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkReadFile1M reads a 1,000,000-row Sheets-style download (unique
// addresses, so the de-duplication map is at its largest) and reports the
// per-row cost. One op is the whole file.
func BenchmarkReadFile1M(b *testing.B) {
	const rows = 1_000_000
	path := filepath.Join(b.TempDir(), "campaign.csv")
	writeCampaign(b, path, rows)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ops := 0
	for b.Loop() {
		n := 0
		info, err := ReadFile(path, Options{}, func(t Target) error {
			if t.Reason != "" {
				return fmt.Errorf("row %d: %s", t.Row, t.Reason)
			}
			n++
			return nil
		})
		if err != nil || n != rows || info.Rows != rows {
			b.Fatalf("read %d rows (Info.Rows %d), err %v", n, info.Rows, err)
		}
		ops++
	}
	runtime.ReadMemStats(&after)
	total := float64(ops * rows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "B/row")
}

func writeCampaign(tb testing.TB, path string, rows int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprint(w, "\ufeffEmail Address,Name,Team\r\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(w, "User%07d@Example.com,User %d,\"Team %d, EMEA\"\r\n", i, i, i%50)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLoadFile1M loads the same file as the CLI does before planning
// (read once, kept compactly) and reports what the kept input holds per
// row once the reader's garbage is collected.
func BenchmarkLoadFile1M(b *testing.B) {
	const rows = 1_000_000
	path := filepath.Join(b.TempDir(), "campaign.csv")
	writeCampaign(b, path, rows)
	b.ReportAllocs()
	var kept uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l, err := Load(func(fn func(Target) error) (Info, error) { return ReadFile(path, Options{}, fn) })
		if err != nil || l.Info().Rows != rows {
			b.Fatalf("Load: %v", err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		kept = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	b.ReportMetric(float64(kept)/rows, "kept-B/row")
}
