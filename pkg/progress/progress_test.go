package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	got := Format("checking", Status{Done: 50, Total: 200, Failed: 2, Rate: 10, Note: "limit 10/s"}, 90*time.Second, true)
	want := "checking [======                  ] 50/200 (25%) 10.0/s 2 failed ETA 15s elapsed 1m30s limit 10/s"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := Format("listing", Status{Done: 7}, time.Second, false); got != "listing 7 0.0/s elapsed 1s" {
		t.Fatalf("no total: %q", got)
	}
	// Long durations read as the duration flags are written: days, and no
	// zero terms ("ETA 1d5h", not "ETA 29h0m0s").
	got = Format("applying", Status{Done: 1, Total: 100000, ETA: 29 * time.Hour}, 36*time.Hour+90*time.Second, false)
	if want := "applying 1/100000 (0%) 0.0/s ETA 1d5h elapsed 1d12h1m30s"; got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPrinterFinalLine(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var buf lockedBuffer
		n := 0
		var mu sync.Mutex
		p := Start(&buf, tty, "work", time.Hour, func() Status {
			mu.Lock()
			defer mu.Unlock()
			return Status{Done: n, Total: 3, Count: n}
		})
		mu.Lock()
		n = 3
		mu.Unlock()
		p.Stop()
		p.Stop() // idempotent
		out := buf.String()
		if !strings.Contains(out, "work") || !strings.Contains(out, "3/3 (100%)") || !strings.HasSuffix(out, "\n") {
			t.Fatalf("tty=%v: %q", tty, out)
		}
		if tty != strings.HasPrefix(out, "\r") {
			t.Fatalf("tty=%v: carriage return mismatch in %q", tty, out)
		}
	}
	Start(nil, false, "quiet", 0, func() Status { return Status{} }).Stop()
}

func TestMeter(t *testing.T) {
	var m Meter
	t0 := time.Unix(0, 0)
	m.Rate(0, t0)
	if r := m.Rate(100, t0.Add(time.Second)); r != 100 {
		t.Fatalf("rate %v, want 100", r)
	}
	if r := m.Rate(100, t0.Add(2*time.Second)); r != 70 {
		t.Fatalf("smoothed rate %v, want 70", r)
	}
}

// applyStatus is what apply shows: its line is about 140 columns whole.
func applyStatus(done int) Status {
	return Status{Done: done, Total: 12000, Failed: 3, Rate: 9.8, Count: done,
		Note: "(calls/s; calls 4523, retries 12, quota errors 2, write limit 10.0/s), 4 waiting to settle"}
}

func TestFit(t *testing.T) {
	s := applyStatus(4500)
	whole := Format("applying", s, 10*time.Minute, true)
	if n := len([]rune(whole)); n < 130 {
		t.Fatalf("the whole line is %d columns: the test proves nothing", n)
	}
	cases := []struct {
		limit int
		want  string
	}{
		{200, whole},
		// The note is cut first, and kept as far as it fits.
		{120, "applying [=========               ] 4500/12000 (37%) 9.8/s 3 failed ETA 12m45s elapsed 10m (calls/s; calls 4523, retrie…"},
		// Too little room for any of the note: it goes; then the bar.
		{79, "applying 4500/12000 (37%) 9.8/s 3 failed ETA 12m45s elapsed 10m"},
		// Then the elapsed time, the ETA and the rate.
		{39, "applying 4500/12000 (37%) 3 failed"},
		// At last the line itself is cut.
		{20, "applying 4500/12000…"},
	}
	for _, tc := range cases {
		got := Fit("applying", s, 10*time.Minute, tc.limit)
		if got != tc.want {
			t.Errorf("limit %d:\ngot  %q\nwant %q", tc.limit, got, tc.want)
		}
		if n := len([]rune(got)); n > tc.limit {
			t.Errorf("limit %d: %d columns", tc.limit, n)
		}
	}
}

func TestColumns(t *testing.T) {
	for width, want := range map[int]int{0: 79, -1: 79, 1: 1, 40: 39, 80: 79, 200: 199} {
		if got := Columns(width); got != want {
			t.Errorf("Columns(%d) = %d, want %d", width, got, want)
		}
	}
}

// fakeTerminal is a terminal of a settable width that records what is
// written to it.
type fakeTerminal struct {
	lockedBuffer
	mu    sync.Mutex
	width int
}

func (f *fakeTerminal) Width() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.width
}

func (f *fakeTerminal) resize(w int) {
	f.mu.Lock()
	f.width = w
	f.mu.Unlock()
}

// redraws splits what a printer wrote on a terminal into its redrawn lines.
func redraws(t *testing.T, out string) []string {
	t.Helper()
	if !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("not a redrawn line ending in one newline: %q", out)
	}
	return strings.Split(strings.TrimSuffix(out[1:], "\n"), "\r")
}

// TestPrinterFitsTheTerminal redraws apply's line on terminals of 40, 80
// and 200 columns, one shrinking while it runs: no redraw reaches the last
// column, so none wraps.
func TestPrinterFitsTheTerminal(t *testing.T) {
	for _, width := range []int{40, 80, 200, 0} {
		term := &fakeTerminal{width: width}
		var mu sync.Mutex
		done := 0
		p := Start(term, true, "applying", 0, func() Status {
			mu.Lock()
			defer mu.Unlock()
			done += 500
			return applyStatus(done)
		})
		time.Sleep(650 * time.Millisecond) // three redraws at 200 ms
		p.Stop()
		lines := redraws(t, term.String())
		if len(lines) < 3 {
			t.Fatalf("width %d: %d redraws, want at least 3", width, len(lines))
		}
		limit := width - 1
		if width == 0 {
			limit = DefaultWidth - 1
		}
		for _, l := range lines {
			if n := len([]rune(l)); n > limit {
				t.Errorf("width %d: a redraw of %d columns: %q", width, n, l)
			}
			if !strings.HasPrefix(l, "applying") {
				t.Errorf("width %d: %q", width, l)
			}
		}
	}

	// A terminal made narrower while the line is drawn: the blanking of
	// the longer line stays within the new width.
	term := &fakeTerminal{width: 200}
	p := Start(term, true, "applying", 0, func() Status { return applyStatus(10) })
	time.Sleep(250 * time.Millisecond)
	term.resize(40)
	time.Sleep(250 * time.Millisecond)
	p.Stop()
	lines := redraws(t, term.String())
	if n := len([]rune(lines[len(lines)-1])); n > 39 {
		t.Errorf("after shrinking to 40 columns, a redraw of %d: %q", n, lines[len(lines)-1])
	}
}
