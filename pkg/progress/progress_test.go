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
