package journal

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// The executor's target is 2,000 items/s (an intent and an outcome each) on
// two cores, with every intent durable before its call leaves. These measure
// the journal alone, with real fsyncs in $TMPDIR (point it at the disk the
// journals will live on).

const benchWorkers = 64

// runWorkers splits n operations over benchWorkers goroutines.
func runWorkers(b *testing.B, n int, op func(g, i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	for g := range benchWorkers {
		wg.Go(func() {
			for i := g; i < n; i += benchWorkers {
				if err := op(g, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func benchJournal(b *testing.B) *Journal {
	b.Helper()
	j, err := Create(b.TempDir()+"/results.jsonl", testHeader())
	if err != nil {
		b.Fatal(err)
	}
	return j
}

func reportJournal(b *testing.B, j *Journal, start time.Time, items int) {
	b.Helper()
	elapsed := time.Since(start).Seconds()
	records, syncs := j.Stats()
	b.ReportMetric(float64(records)/elapsed, "records/s")
	if items > 0 {
		b.ReportMetric(float64(items)/elapsed, "items/s")
	}
	b.ReportMetric(float64(syncs)/float64(max(records, 1)), "syncs/record")
}

// BenchmarkAppendParallel: 64 goroutines each waiting for its record to be
// durable, as workers wait for their intents.
func BenchmarkAppendParallel(b *testing.B) {
	j := benchJournal(b)
	rec := intent("someone.with.a.long.name@example.org", 12345, 1, 0)
	b.ResetTimer()
	start := time.Now()
	runWorkers(b, b.N, func(int, int) error { return j.Append(rec) })
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportJournal(b, j, start, 0)
}

// BenchmarkItemsParallel: the executor's pattern per item, a durable intent
// then an outcome queued without waiting.
func BenchmarkItemsParallel(b *testing.B) {
	j := benchJournal(b)
	in := intent("someone.with.a.long.name@example.org", 12345, 1, 0)
	out := outcome("someone.with.a.long.name@example.org", 12345, OutcomeDone, 0)
	out.Detail = "operation done"
	b.ResetTimer()
	start := time.Now()
	runWorkers(b, b.N, func(int, int) error {
		if err := j.Append(in); err != nil {
			return err
		}
		j.AppendAsync(out)
		return nil
	})
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportJournal(b, j, start, b.N)
}

// BenchmarkAppendSerial: one caller, so one fsync per record; the baseline
// group commit improves on.
func BenchmarkAppendSerial(b *testing.B) {
	j := benchJournal(b)
	rec := intent("someone.with.a.long.name@example.org", 12345, 1, 0)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if err := j.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	reportJournal(b, j, start, 0)
}

// BenchmarkRead: reading a journal of 10,000 items (intent + outcome each)
// into a State, as resume and report do.
func BenchmarkRead(b *testing.B) {
	const items = 10000
	path := b.TempDir() + "/results.jsonl"
	j, err := Create(path, testHeader())
	if err != nil {
		b.Fatal(err)
	}
	for i := range items {
		email := fmt.Sprintf("user%d@example.org", i)
		j.AppendAsync(intent(email, i+2, 1, 0), outcome(email, i+2, OutcomeDone, 1))
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := Read(path)
		if err != nil {
			b.Fatal(err)
		}
		if st.NumFinal() != items {
			b.Fatalf("%d items", st.NumFinal())
		}
	}
	b.ReportMetric(float64(2*items*b.N)/b.Elapsed().Seconds(), "records/s")
}
