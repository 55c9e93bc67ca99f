package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testHeader() Header {
	return Header{
		Plan:       PlanRef{Path: "plan.jsonl", SHA256: strings.Repeat("ab", 32), Items: 4},
		Customer:   "C0123abc",
		APIVersion: "v1",
		CreatedAt:  t0,
	}
}

func intent(email string, row, attempt int, sec float64) Record {
	return Record{Type: TypeIntent, At: at(sec), Row: row, Email: email, Action: "send", Reason: "not_yet_sent", Attempt: attempt}
}

func outcome(email string, row int, outcome string, sec float64) Record {
	return Record{Type: TypeOutcome, At: at(sec), Row: row, Email: email, Action: "send", Reason: "not_yet_sent", Outcome: outcome, Attempts: 1}
}

func runEvent(event string, sec float64) Record {
	return Record{Type: TypeRun, At: at(sec), Event: event, PID: 42}
}

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func journalPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "results.jsonl")
}

func mustCreate(t *testing.T, path string, recs ...Record) *Journal {
	t.Helper()
	j, err := Create(path, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	if len(recs) > 0 {
		if err := j.Append(recs...); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// writeRaw writes a journal file by hand: the test header, then lines.
func writeRaw(t *testing.T, path string, lines ...string) {
	t.Helper()
	h := testHeader()
	h.Kind, h.Version = Kind, Version
	head, err := encode(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(head, strings.Join(lines, "")...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func line(t *testing.T, r Record) string {
	t.Helper()
	b, err := encodeRecords([]Record{r})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	path := journalPath(t)
	j := mustCreate(t, path)
	recs := []Record{
		runEvent(EventStart, 0),
		intent("Ann@Example.org", 2, 1, 1),
		outcome("Ann@Example.org", 2, OutcomeDone, 2),
		intent("bob@example.org", 3, 1, 3),
	}
	if err := j.Append(recs...); err != nil {
		t.Fatal(err)
	}
	j.AppendAsync(Record{Type: TypeOutcome, At: at(4), Row: 4, Email: "x", Action: "none", Reason: "invalid_email", Outcome: OutcomeSkipped})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if recs, syncs := j.Stats(); recs != 5 || syncs < 1 || syncs > 2 {
		t.Errorf("Stats = %d records, %d syncs; want 5 and 1..2", recs, syncs)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}

	j2, st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if st.Header.Kind != Kind || st.Header.Version != Version || st.Header != withIdentity(testHeader()) {
		t.Errorf("header = %+v", st.Header)
	}
	if st.Records != 5 || st.Torn {
		t.Errorf("Records = %d, Torn = %v; want 5, false", st.Records, st.Torn)
	}
	if got := finalOf(st, "ann@example.org"); got.Outcome != OutcomeDone || got.Email != "Ann@Example.org" {
		t.Errorf("Final[ann] = %+v", got)
	}
	if got := finalOf(st, "#4"); got.Outcome != OutcomeSkipped {
		t.Errorf("Final[#4] = %+v", got)
	}
	if _, ok := st.Pending["bob@example.org"]; !ok || len(st.Pending) != 1 {
		t.Errorf("Pending = %v, want bob", st.Pending)
	}
	if err := j2.Append(outcome("bob@example.org", 3, OutcomeInDoubt, 5)); err != nil {
		t.Fatal(err)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Records != 6 || len(st2.Pending) != 0 || finalOf(st2, "bob@example.org").Outcome != OutcomeInDoubt {
		t.Errorf("after resume: Records %d, Pending %v, Final %v", st2.Records, st2.Pending, finalOutcomes(st2))
	}
}

// finalOf is the last outcome of key's item, zero when it has none.
func finalOf(st *State, key string) Record {
	r, _ := st.Final(key)
	return r
}

// finalOutcomes maps each item's key to its last outcome.
func finalOutcomes(st *State) map[string]string {
	m := map[string]string{}
	for k, r := range st.Finals() {
		m[k] = r.Outcome
	}
	return m
}

func withIdentity(h Header) Header {
	h.Kind, h.Version = Kind, Version
	return h
}

func TestCreateRefusesExisting(t *testing.T) {
	path := journalPath(t)
	if err := os.WriteFile(path, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Create(path, testHeader())
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Create over an existing file: %v; want fs.ErrExist naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me\n" {
		t.Errorf("Create changed the existing file: %q", b)
	}
}

func TestRefusesNonJournal(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty file"},
		{"not json", "email,name\nann@example.org,Ann\n", "line 1"},
		{"plan file", `{"kind":"invitectl/plan","version":1}` + "\n", `kind "invitectl/plan"`},
		{"other version", `{"kind":"invitectl/results","version":2}` + "\n", "journal version 2"},
		{"header cut short", `{"kind":"invitectl/res`, "incomplete header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := journalPath(t)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Open(path)
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, ErrNotJournal) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %v; want ErrNotJournal naming the file and %q", op, err, tt.want)
				}
			}
			check("Open", err)
			_, err = Read(path)
			check("Read", err)
		})
	}
}

func TestTornLastLine(t *testing.T) {
	done := outcome("ann@example.org", 2, OutcomeDone, 2)
	tests := []struct {
		name string
		tail func(full string) string
	}{
		{"half a record", func(full string) string { return full[:len(full)/2] }},
		{"all but the newline", func(full string) string { return full[:len(full)-1] }},
		{"garbage with a newline", func(string) string { return "{\"type\":\"outc\x00\x00\n" }},
		{"zeros from a crash", func(string) string { return strings.Repeat("\x00", 100) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := journalPath(t)
			good := []string{line(t, runEvent(EventStart, 0)), line(t, intent("ann@example.org", 2, 1, 1))}
			writeRaw(t, path, good...)
			goodSize := fileSize(t, path)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tt.tail(line(t, done))); err != nil {
				t.Fatal(err)
			}
			f.Close()
			before, _ := os.ReadFile(path)

			st, err := Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !st.Torn || st.Records != 2 || len(st.Pending) != 1 {
				t.Errorf("Read: Torn %v, Records %d, Pending %d; want true, 2, 1", st.Torn, st.Records, len(st.Pending))
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Read modified the file")
			}

			j, st, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !st.Torn || st.Records != 2 {
				t.Errorf("Open: Torn %v, Records %d; want true, 2", st.Torn, st.Records)
			}
			if size := fileSize(t, path); size != goodSize {
				t.Errorf("size after Open = %d, want %d (torn line truncated)", size, goodSize)
			}
			if err := j.Append(done); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			st, err = Read(path)
			if err != nil {
				t.Fatalf("Read after resume: %v", err)
			}
			if st.Torn || st.Records != 3 || len(st.Pending) != 0 || finalOf(st, "ann@example.org").Outcome != OutcomeDone {
				t.Errorf("after resume: Torn %v, Records %d, Pending %v, Final %v", st.Torn, st.Records, st.Pending, finalOutcomes(st))
			}
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestCorruptMiddleLine(t *testing.T) {
	path := journalPath(t)
	writeRaw(t, path,
		line(t, runEvent(EventStart, 0)),
		"{\"type\":\"intent\",\"email\n",
		line(t, intent("ann@example.org", 2, 1, 1)))
	before, _ := os.ReadFile(path)
	_, _, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), path+" line 3") {
		t.Errorf("Open: %v; want an error naming %s line 3", err, path)
	}
	_, err = Read(path)
	if err == nil || !strings.Contains(err.Error(), path+" line 3") {
		t.Errorf("Read: %v; want an error naming %s line 3", err, path)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused Open modified the file")
	}
}

func TestFinalAndPending(t *testing.T) {
	skipped := func(email string, row int, reason string) Record {
		return Record{Type: TypeOutcome, At: at(9), Row: row, Email: email, Action: "none", Reason: reason, Outcome: OutcomeSkipped}
	}
	tests := []struct {
		name        string
		recs        []Record
		wantFinal   map[string]string // key → outcome
		wantPending []string
	}{
		{
			name:        "intent alone is pending",
			recs:        []Record{intent("a@x.org", 2, 1, 1)},
			wantFinal:   map[string]string{},
			wantPending: []string{"a@x.org"},
		},
		{
			name:      "last outcome wins (resume --retry-in-doubt)",
			recs:      []Record{intent("a@x.org", 2, 1, 1), outcome("a@x.org", 2, OutcomeInDoubt, 2), intent("A@X.org", 2, 2, 3), outcome("A@X.org", 2, OutcomeDone, 4)},
			wantFinal: map[string]string{"a@x.org": OutcomeDone},
		},
		{
			name:        "intent after an outcome is pending again",
			recs:        []Record{outcome("a@x.org", 2, OutcomeInDoubt, 2), intent("a@x.org", 2, 2, 3)},
			wantFinal:   map[string]string{"a@x.org": OutcomeInDoubt},
			wantPending: []string{"a@x.org"},
		},
		{
			name: "a duplicate row does not shadow the address's send",
			recs: []Record{
				skipped("a@x.org", 5, "duplicate"),
				intent("a@x.org", 2, 1, 1),
				skipped("", 6, "invalid_row"),
				skipped("", 7, "invalid_row"),
			},
			wantFinal:   map[string]string{"#5": OutcomeSkipped, "#6": OutcomeSkipped, "#7": OutcomeSkipped},
			wantPending: []string{"a@x.org"},
		},
		{
			name: "pruned cancel keyed by email",
			recs: []Record{
				{Type: TypeIntent, Email: "p@x.org", Action: "cancel", Reason: "not_in_input", Attempt: 1},
				{Type: TypeOutcome, Email: "p@x.org", Action: "cancel", Reason: "not_in_input", Outcome: OutcomeDone},
			},
			wantFinal: map[string]string{"p@x.org": OutcomeDone},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := journalPath(t)
			lines := make([]string, len(tt.recs))
			for i, r := range tt.recs {
				lines[i] = line(t, r)
			}
			writeRaw(t, path, lines...)
			st, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.NumFinal() != len(tt.wantFinal) {
				t.Errorf("Final = %v, want %v", finalOutcomes(st), tt.wantFinal)
			}
			for k, o := range tt.wantFinal {
				if finalOf(st, k).Outcome != o {
					t.Errorf("Final[%s] = %q, want %q", k, finalOf(st, k).Outcome, o)
				}
			}
			if len(st.Pending) != len(tt.wantPending) {
				t.Errorf("Pending = %v, want %v", st.Pending, tt.wantPending)
			}
			for _, k := range tt.wantPending {
				if _, ok := st.Pending[k]; !ok {
					t.Errorf("Pending lacks %s", k)
				}
			}
		})
	}
}

// Create writes the journal whole: it refuses an existing file, and an
// empty file (left by an older version or another program) is refused by
// Open and Read as ErrEmpty, never taken for a journal.
func TestCreateWholeAndEmpty(t *testing.T) {
	path := journalPath(t)
	j := mustCreate(t, path)
	if _, err := Create(path, testHeader()); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a journal: %v; want fs.ErrExist", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("%d files beside the journal, want none", len(entries)-1)
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(empty); !errors.Is(err, ErrEmpty) || !errors.Is(err, ErrNotJournal) {
		t.Errorf("Open of an empty file: %v; want ErrEmpty", err)
	}
	if _, err := Read(empty); !errors.Is(err, ErrEmpty) {
		t.Errorf("Read of an empty file: %v; want ErrEmpty", err)
	}
}

// slowSync makes every fsync take a millisecond, as on a real disk, so that
// batches form however fast the test machine's storage is.
func slowSync(f *os.File) error {
	time.Sleep(time.Millisecond)
	return f.Sync()
}

// With a 1 ms fsync, as on a real disk, batches hold about as many records
// as there are goroutines: at most one fsync per four records, and Stats
// counts the fsyncs made, no more, no fewer.
func TestGroupCommit(t *testing.T) {
	const goroutines, each = 64, 200
	path := journalPath(t)
	var made atomic.Int64
	j, err := create(path, testHeader(), options{sync: func(f *os.File) error {
		made.Add(1)
		return slowSync(f)
	}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r := intent(fmt.Sprintf("g%d-%d@example.org", g, i), g*each+i+2, 1, 0)
				if err := j.Append(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	records, syncs := j.Stats()
	t.Logf("%d records, %d syncs (%.3f syncs/record)", records, syncs, float64(syncs)/float64(records))
	if records != goroutines*each || int64(syncs) != made.Load() {
		t.Errorf("Stats = %d records, %d syncs; want %d records and the %d fsyncs made", records, syncs, goroutines*each, made.Load())
	}
	if float64(syncs) > 0.25*float64(records) {
		t.Errorf("%d syncs for %d records; want at most 0.25 per record", syncs, records)
	}
	st, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != goroutines*each || len(st.Pending) != goroutines*each {
		t.Errorf("read back %d records, %d distinct; want %d each", st.Records, len(st.Pending), goroutines*each)
	}
}

// With the real fsync, however fast the storage: while one batch is being
// synced, every Append that arrives joins the next batch. The first fsync
// waits until all the other callers are queued, so 64 concurrent Appends
// take exactly two fsyncs. (A ratio bound would prove nothing here: on
// storage that syncs in microseconds, batches may hold one record.)
func TestGroupCommitRealFsync(t *testing.T) {
	const callers = 64
	path := journalPath(t)
	var j *Journal
	var first sync.Once
	var gateErr error
	gate := func(f *os.File) error {
		first.Do(func() {
			b, err := os.ReadFile(f.Name())
			if err != nil {
				gateErr = err
				return
			}
			inBatch := bytes.Count(b, []byte("\n")) - 1 // the header is not a record
			deadline := time.Now().Add(10 * time.Second)
			for {
				j.mu.Lock()
				queued := j.queued
				j.mu.Unlock()
				if inBatch+queued == callers {
					return
				}
				if time.Now().After(deadline) {
					gateErr = fmt.Errorf("during the first fsync (%d records) only %d more were queued, want %d", inBatch, queued, callers-inBatch)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		return f.Sync()
	}
	j, err := create(path, testHeader(), options{sync: gate})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			if err := j.Append(intent(fmt.Sprintf("g%d@example.org", g), g+2, 1, 0)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if gateErr != nil {
		t.Fatal(gateErr)
	}
	if records, syncs := j.Stats(); records != callers || syncs != 2 {
		t.Errorf("Stats = %d records, %d syncs; want %d records in 2 fsyncs", records, syncs, callers)
	}
}

func TestAppendWaitsForAsync(t *testing.T) {
	path := journalPath(t)
	j, err := create(path, testHeader(), options{sync: slowSync})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i := range 50 {
		j.AppendAsync(outcome(fmt.Sprintf("a%d@x.org", i), i+2, OutcomeSkipped, 0))
	}
	if err := j.Append(); err != nil {
		t.Fatal(err)
	}
	if records, _ := j.Stats(); records != 50 {
		t.Errorf("after Append(): %d records durable, want 50", records)
	}
	st, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 50 {
		t.Errorf("read back %d records, want 50", st.Records)
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	path := journalPath(t)
	broken := errors.New("disk on fire")
	calls := 0
	failFirst := func(f *os.File) error { // the header is synced by atomicfile
		calls++
		return broken
	}
	j, err := create(path, testHeader(), options{sync: failFirst})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(intent("a@x.org", 2, 1, 1)); !errors.Is(err, broken) || !strings.Contains(err.Error(), path) {
		t.Errorf("Append: %v; want the sync error naming the file", err)
	}
	if err := j.Append(intent("b@x.org", 3, 1, 1)); !errors.Is(err, broken) {
		t.Errorf("Append after a failure: %v; want the same error", err)
	}
	j.AppendAsync(intent("c@x.org", 4, 1, 1))
	if err := j.Close(); !errors.Is(err, broken) {
		t.Errorf("Close: %v; want the write error", err)
	}
	if err := j.Append(intent("d@x.org", 5, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v; want ErrClosed", err)
	}
	j.AppendAsync(intent("e@x.org", 6, 1, 1)) // dropped, must not panic
}
