package source

import (
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// generated is an input of size bytes made on demand: head, then body
// repeated, never held whole.
type generated struct {
	head, body []byte
	size, off  int64
}

func (g *generated) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		var src []byte
		if g.off < int64(len(g.head)) {
			src = g.head[g.off:]
		} else {
			k := int((g.off - int64(len(g.head))) % int64(len(g.body)))
			src = g.body[k:]
		}
		m := copy(p[n:], src[:min(int64(len(src)), g.size-g.off)])
		n += m
		g.off += int64(m)
	}
	return n, nil
}

// peakMemory runs f and returns the most memory the Go runtime held from
// the system meanwhile (mapped and not released: heap, stacks, runtime),
// sampled every few milliseconds.
func peakMemory(t *testing.T, f func()) uint64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	read := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() - samples[1].Value.Uint64()
	}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return max(peak, read())
}

// TestHugeInputsRefused is item 12: any 1 GiB input that is not a campaign
// is refused as an input error (exit 2), with its line, and reading it,
// through Load as the CLI does, holds no more than 100 MB. The cases that
// read millions of lines run without -race (go test ./pkg/source).
func TestHugeInputsRefused(t *testing.T) {
	const (
		size     = 1 << 30
		maxBytes = 100 << 20
	)
	random := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	tests := []struct {
		name       string
		head, body string
		line       int
		problem    string
		slow       bool // reads millions of lines before refusing
	}{
		{"one huge line", "email\n", "a", 2, "a line longer than 1 MiB", false},
		{"huge address cells", "email,name\n", strings.Repeat("x", 100_000) + "@example.org,name\n", 1001, "1000 of the first 1000 rows have no valid address", false},
		{"unbalanced quote", "email\n\"a@example.org\n", "b@example.org,\n", 2, "still inside a quoted field after 1 MiB", false},
		{"binary", "", string(random), 1, "", false},
		{"text, not addresses", "email\n", "not an address, but a sentence\n", 1001, "1000 of the first 1000 rows have no valid address", false},
		{"a list whose first line only is an address", "a@example.org\n", "and then prose\n", 1000, "have no valid address in column 1 (the file has no header line)", false},
		{"blank lines", "email\n", "\n", MaxLines + 1, "more than 20000000 lines", true},
		{"blank records", "email,x\n", ",\n", MaxLines + 1, "more than 20000000 lines", true},
		{"one address repeated", "email\n", "same@example.org\n", MaxRows + 2, "more than 5000000 rows", true},
		{"empty address cells", "email,name\n", ",x\n", MaxRows + 2, "more than 5000000 rows", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && (testing.Short() || raceEnabled) {
				t.Skip("reads millions of lines: run without -short and -race")
			}
			in := &generated{head: []byte(tt.head), body: []byte(tt.body), size: size}
			var err error
			peak := peakMemory(t, func() {
				_, err = Load(func(fn func(Target) error) (Info, error) {
					return Read(in, "huge.csv", Options{}, fn)
				})
			})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *InputError", err)
			}
			if tt.line > 0 && ie.Line != tt.line || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("err = %v, want line %d and %q", err, tt.line, tt.problem)
			}
			if peak > maxBytes {
				t.Errorf("held %d MB reading %d MB of input, want at most %d MB", peak>>20, in.off>>20, maxBytes>>20)
			}
			t.Logf("refused after %d MB of input, holding at most %d MB: %v", in.off>>20, peak>>20, err)
		})
	}
}
