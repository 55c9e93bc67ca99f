// Package progress draws a run's progress on stderr: a bar redrawn in place
// on a terminal, a plain line every few seconds otherwise, and one final
// line. The caller supplies a function that reads its counters.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

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

// Start begins printing. On a terminal the bar is redrawn every 200 ms,
// otherwise a line is printed every interval (5 s when zero). A nil writer
// prints nothing.
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
	line := Format(p.label, s, elapsed, p.tty)
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	pad := ""
	if n := p.lastLine - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.lastLine = len(line)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprint(p.w, "\r"+line+pad+end)
}

// Format renders one status line; with bar it starts with a bar.
func Format(label string, s Status, elapsed time.Duration, bar bool) string {
	var b strings.Builder
	b.WriteString(label)
	if bar && s.Total > 0 {
		const width = 24
		filled := min(width, s.Done*width/s.Total)
		b.WriteString(" [" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "]")
	}
	if s.Total > 0 {
		fmt.Fprintf(&b, " %d/%d (%d%%)", s.Done, s.Total, s.Done*100/s.Total)
	} else {
		fmt.Fprintf(&b, " %d", s.Done)
	}
	fmt.Fprintf(&b, " %.1f/s", s.Rate)
	if s.Failed > 0 {
		fmt.Fprintf(&b, " %d failed", s.Failed)
	}
	if s.Rate > 0 && s.Total > s.Done {
		eta := time.Duration(float64(s.Total-s.Done) / s.Rate * float64(time.Second))
		fmt.Fprintf(&b, " ETA %s", eta.Round(time.Second))
	}
	fmt.Fprintf(&b, " elapsed %s", elapsed.Round(time.Second))
	if s.Note != "" {
		b.WriteString(" " + s.Note)
	}
	return b.String()
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
