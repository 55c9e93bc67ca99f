package journal

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// hugeOutcome is an outcome whose message (an API's, or an error chain's)
// is longer than the reader's 64 KiB buffer several times over.
func hugeOutcome(email string, row int, size int) Record {
	r := outcome(email, row, OutcomeFailed, float64(row))
	const unit = "ünïcödé message, "
	r.Message = strings.Repeat(unit, size/len(unit))
	return r
}

// Lines longer than 64 KiB read back whole by Read, Scan and Open, and a
// torn last line that long is dropped (and cut away by Open) like any torn
// line. Catches a reader that stops at its buffer's size.
func TestLinesOver64KiB(t *testing.T) {
	big := hugeOutcome("ann@example.org", 2, 100<<10)
	bigger := hugeOutcome("bob@example.org", 3, 300<<10)
	small := intent("cat@example.org", 4, 1, 4)
	torn := line(t, hugeOutcome("cat@example.org", 4, 200<<10))
	tests := []struct {
		name string
		tail string
		torn bool
	}{
		{"complete", "", false},
		{"torn huge last line", torn[:150<<10], true},
		{"torn huge last line, all but its newline", torn[:len(torn)-1], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := journalPath(t)
			writeRaw(t, path, line(t, big), line(t, small), line(t, bigger))
			goodSize := fileSize(t, path)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tt.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()
			check := func(how string, st *State) {
				t.Helper()
				if st.Torn != tt.torn || st.Records != 3 {
					t.Errorf("%s: Torn %v, %d records; want %v, 3", how, st.Torn, st.Records, tt.torn)
				}
				if got := finalOf(st, "ann@example.org").Message; got != big.Message {
					t.Errorf("%s: ann's message has %d bytes, want %d", how, len(got), len(big.Message))
				}
				if got := finalOf(st, "bob@example.org").Message; got != bigger.Message {
					t.Errorf("%s: bob's message has %d bytes, want %d", how, len(got), len(bigger.Message))
				}
				if _, ok := st.Pending["cat@example.org"]; !ok || len(st.Pending) != 1 {
					t.Errorf("%s: pending %v, want cat's intent alone", how, st.Pending)
				}
			}

			st, err := Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			check("Read", st)

			var lines []int
			var msgs []int
			h, isTorn, err := Scan(path, func(n int, r Record) error {
				lines, msgs = append(lines, n), append(msgs, len(r.Message))
				return nil
			})
			if err != nil || h.Kind != Kind || isTorn != tt.torn {
				t.Fatalf("Scan: header kind %q, torn %v, %v", h.Kind, isTorn, err)
			}
			if want := []int{2, 3, 4}; !slices.Equal(lines, want) || !slices.Equal(msgs, []int{len(big.Message), 0, len(bigger.Message)}) {
				t.Errorf("Scan: lines %v with messages of %v bytes", lines, msgs)
			}

			j, st, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			check("Open", st)
			if size := fileSize(t, path); size != goodSize {
				t.Errorf("size after Open = %d, want %d (only a torn line cut)", size, goodSize)
			}
			done := outcome("cat@example.org", 4, OutcomeDone, 5)
			if err := j.Append(done); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			st, err = Read(path)
			if err != nil || st.Torn || st.Records != 4 || len(st.Pending) != 0 || finalOf(st, "ann@example.org").Message != big.Message {
				t.Fatalf("after appending: %v; Torn %v, %d records, pending %v", err, st.Torn, st.Records, st.Pending)
			}
		})
	}
}

// A corrupt line longer than the buffer is named by its own line number.
func TestCorruptHugeLineNamed(t *testing.T) {
	path := journalPath(t)
	bad := strings.Repeat("x", 100<<10) + "\n"
	writeRaw(t, path, line(t, hugeOutcome("ann@example.org", 2, 70<<10)), bad, line(t, intent("bob@example.org", 3, 1, 3)))
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path+" line 3") {
		t.Errorf("Read: %v; want an error naming %s line 3", err, path)
	}
}

// Append with no records returns at once when nothing is queued or being
// written: it must not wait for a commit that will never come.
func TestEmptyAppendReturns(t *testing.T) {
	j := mustCreate(t, journalPath(t))
	done := make(chan error, 1)
	go func() { done <- j.Append() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Append() on an idle journal did not return")
	}
	if records, syncs := j.Stats(); records != 0 || syncs != 0 {
		t.Errorf("Stats = %d records, %d syncs; want none", records, syncs)
	}
}

// A failure to close the file is Close's error: the last records may not
// have reached the disk.
func TestCloseReportsCloseFailure(t *testing.T) {
	path := journalPath(t)
	j := mustCreate(t, path, intent("a@x.org", 2, 1, 1))
	_ = j.f.Close() // the descriptor is gone: the journal's own close fails
	if err := j.Close(); err == nil || !strings.Contains(err.Error(), "close") || !strings.Contains(err.Error(), path) {
		t.Errorf("Close = %v, want the close failure naming %s", err, path)
	}
}

// A pruned item (row 0) is keyed by its address whatever its action; an
// input row's item without a call by its row; an acting item by its
// address in key form, whatever the case or the white space around it.
func TestItemKey(t *testing.T) {
	tests := []struct {
		row           int
		email, action string
		want          string
	}{
		{0, "Ann@Example.org", "cancel", "ann@example.org"},
		{0, "Ann@Example.org", "none", "ann@example.org"},
		{7, "Ann@Example.org", "send", "ann@example.org"},
		{7, "Ann@Example.org", "none", "#7"},
		{1, "", "none", "#1"},
		{2, "ann@example.org", "send", "ann@example.org"},
		{2, "Ann@example.org", "send", "ann@example.org"},
		{2, "ann@example.orG", "cancel", "ann@example.org"},
		{2, " ann@example.org", "send", "ann@example.org"},
		{2, "ann@example.org ", "send", "ann@example.org"},
		{2, "\tann@example.org\r", "send", "ann@example.org"},
		{2, "\vann@example.org\f", "send", "ann@example.org"},
		{2, "\nann@example.org\n", "send", "ann@example.org"},
		{2, "ann@example.org\u00a0", "send", "ann@example.org"},
		{2, "Ann@Example.org\u00a0", "send", "ann@example.org"},
		{2, "not an address", "send", "not an address"},
		{2, "", "send", ""},
		{3, "ann@example.org", "none", "#3"},
	}
	for _, tt := range tests {
		if got := ItemKey(tt.row, tt.email, tt.action); got != tt.want {
			t.Errorf("ItemKey(%d, %q, %q) = %q, want %q", tt.row, tt.email, tt.action, got, tt.want)
		}
	}
}
