package report

import (
	"io"
	"testing"

	"github.com/invitectl/invitectl/internal/benchfiles"
	"github.com/invitectl/invitectl/internal/procstat"
)

// BenchmarkReportMillion is issue 9's report target: 'invitectl report' of
// a journal of 1,000,000 items, half of them done, as the results CSV and
// as the summary table. Target: at most 300 MB peak RSS.
func BenchmarkReportMillion(b *testing.B) {
	_, results, err := benchfiles.Write(b.TempDir(), "", "C0bench", 1_000_000, 500_000)
	if err != nil {
		b.Fatal(err)
	}
	var peak, base, cpu float64
	for b.Loop() {
		base = max(base, procstat.Settle())
		procstat.ResetPeak()
		cpu0 := procstat.CPUSeconds()
		res, err := OpenResults(results)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteCSV(io.Discard, res); err != nil {
			b.Fatal(err)
		}
		sum := res.Summarize()
		if err := WriteTable(io.Discard, sum, 80); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, procstat.PeakMiB())
		cpu += procstat.CPUSeconds() - cpu0
		if sum.Items != 500_000 {
			b.Fatalf("%d items with an outcome, want 500000", sum.Items)
		}
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-s")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(peak*(1<<20)/300e6, "peak/300MB")
	b.ReportMetric(base, "base-RSS-MiB")
}
