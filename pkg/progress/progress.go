// Package progress draws a run's progress on stderr: a bar redrawn in place
// on a terminal, a plain line every few seconds otherwise, and one final
// line. The caller supplies a function that reads its counters.
//
// A redrawn line must fit the terminal: one that wraps leaves a new line on
// the screen at every redraw. As restic's internal/ui/termstatus does, the
// width is read at every redraw (from a writer with a Width method), 80
// columns are assumed when it is unknown, and the line is cut to fit; here
// the note goes first, then the least useful fields.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/invitectl/invitectl/pkg/duration"
)

// DefaultWidth is the terminal width assumed when it cannot be read.
const DefaultWidth = 80

// Sizer is a writer that knows the width of its terminal in columns (0 when
// unknown), such as invitectl's stderr.
type Sizer interface {
	Width() int
}

// Status is what one update shows.
type Status struct {
	Done, Total int
	Failed      int
	// Rate is the current pace in items per second; Note is extra text such
	// as the limiter's rate.
	Rate float64
	Note string
	// Count is what Rate measures (calls, rows); the final line shows
	// Count over the whole elapsed time instead of the current Rate.
	Count int
	// ETA, when set, is the time left as the caller knows it (the pace of a
	// learned quota); otherwise it comes from Rate.
	ETA time.Duration
}

// Printer redraws a status until stopped.
type Printer struct {
	w        io.Writer
	tty      bool
	label    string
	read     func() Status
	every    time.Duration
	start    time.Time
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	lastLine int
}

// Start begins printing. On a terminal (tty) the bar is redrawn in place
// every 200 ms and fitted to the width w reports when w is a Sizer (else
// DefaultWidth); otherwise a whole line is printed every interval (5 s when
// zero). A nil writer prints nothing.
func Start(w io.Writer, tty bool, label string, interval time.Duration, read func() Status) *Printer {
	p := &Printer{w: w, tty: tty, label: label, read: read, every: interval, start: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	if p.every <= 0 {
		p.every = 5 * time.Second
	}
	if tty {
		p.every = 200 * time.Millisecond
	}
	if w == nil {
		close(p.done)
		return p
	}
	go p.loop()
	return p
}

func (p *Printer) loop() {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.print(false)
		}
	}
}

// Stop prints the final line and returns once the printer is quiet.
func (p *Printer) Stop() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		if p.w != nil {
			p.print(true)
		}
	})
}

func (p *Printer) print(final bool) {
	s := p.read()
	elapsed := time.Since(p.start)
	if (final || s.Rate == 0) && elapsed > 0 {
		// The run's average: at the end, and before the meter has a rate.
		s.Rate = float64(s.Count) / elapsed.Seconds()
	}
	if !p.tty {
		fmt.Fprintln(p.w, Format(p.label, s, elapsed, false))
		return
	}
	limit := Columns(p.width())
	line := Fit(p.label, s, elapsed, limit)
	n := utf8.RuneCountInString(line)
	pad := ""
	if extra := min(p.lastLine, limit) - n; extra > 0 {
		pad = strings.Repeat(" ", extra) // blank what is left of a longer line
	}
	p.lastLine = n
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprint(p.w, "\r"+line+pad+end)
}

// width is the terminal's width, or 0 when unknown.
func (p *Printer) width() int {
	if s, ok := p.w.(Sizer); ok {
		return s.Width()
	}
	return 0
}

// Columns is how many columns a redrawn line may take on a terminal of
// width columns (DefaultWidth when width is 0 or less): all but the last,
// so that the cursor never moves past the edge, where many terminals, the
// Windows console among them, start a new line.
func Columns(width int) int {
	if width <= 0 {
		width = DefaultWidth
	}
	return max(width-1, 1)
}

// Format renders one status line, whole; with bar it starts with a bar.
func Format(label string, s Status, elapsed time.Duration, bar bool) string {
	return strings.Join(fields(label, s, elapsed, bar).all(), " ")
}

// Fit renders the status line with a bar in at most limit columns. It cuts
// the note first (to what fits, ending in "…", or away), then drops the
// bar, the elapsed time, the ETA and the rate, in that order; the label,
// the counts and the failures go last, cut at the edge.
func Fit(label string, s Status, elapsed time.Duration, limit int) string {
	f := fields(label, s, elapsed, true)
	line := strings.Join(f.all(), " ")
	if utf8.RuneCountInString(line) <= limit {
		return line
	}
	note := f.note
	f.note = ""
	rest := strings.Join(f.all(), " ")
	if room := limit - utf8.RuneCountInString(rest) - 1; note != "" && room >= minNote {
		return rest + " " + cut(note, room)
	}
	for _, drop := range []*string{&f.bar, &f.elapsed, &f.eta, &f.rate} {
		if utf8.RuneCountInString(rest) <= limit {
			break
		}
		*drop = ""
		rest = strings.Join(f.all(), " ")
	}
	return cut(rest, limit)
}

// minNote is the shortest cut note worth showing.
const minNote = 12

// cut shortens s to at most n columns, ending in "…" when it was cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-1]) + "…"
}

// parts are the fields of a status line, each "" when absent.
type parts struct {
	label, bar, count, rate, failed, eta, elapsed, note string
}

func (f parts) all() []string {
	var out []string
	for _, v := range []string{f.label, f.bar, f.count, f.rate, f.failed, f.eta, f.elapsed, f.note} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func fields(label string, s Status, elapsed time.Duration, bar bool) parts {
	f := parts{label: label, note: s.Note}
	if bar && s.Total > 0 {
		const width = 24
		filled := min(width, s.Done*width/s.Total)
		f.bar = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "]"
	}
	if s.Total > 0 {
		f.count = fmt.Sprintf("%d/%d (%d%%)", s.Done, s.Total, s.Done*100/s.Total)
	} else {
		f.count = fmt.Sprintf("%d", s.Done)
	}
	f.rate = fmt.Sprintf("%.1f/s", s.Rate)
	if s.Failed > 0 {
		f.failed = fmt.Sprintf("%d failed", s.Failed)
	}
	switch {
	case s.ETA > 0:
		f.eta = "ETA " + duration.Format(s.ETA.Round(time.Second))
	case s.Rate > 0 && s.Total > s.Done:
		eta := time.Duration(float64(s.Total-s.Done) / s.Rate * float64(time.Second))
		f.eta = "ETA " + duration.Format(eta.Round(time.Second))
	}
	f.elapsed = "elapsed " + duration.Format(elapsed.Round(time.Second))
	return f
}

// Meter turns a monotonically growing count into a recent rate.
type Meter struct {
	mu     sync.Mutex
	last   int
	lastAt time.Time
	rate   float64
}

// Rate returns items per second since the previous call, smoothed.
func (m *Meter) Rate(count int, now time.Time) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastAt.IsZero() {
		m.last, m.lastAt = count, now
		return 0
	}
	dt := now.Sub(m.lastAt).Seconds()
	if dt < 0.1 {
		return m.rate
	}
	inst := float64(count-m.last) / dt
	if m.rate == 0 {
		m.rate = inst
	} else {
		m.rate = 0.7*m.rate + 0.3*inst
	}
	m.last, m.lastAt = count, now
	return m.rate
}
