package journal

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/pace"
)

// readBack writes recs as a journal and reads its state, as resume does.
func readBack(t *testing.T, recs ...Record) *State {
	t.Helper()
	path := journalPath(t)
	j := mustCreate(t, path, recs...)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// An outcome that the compact form cannot hold exactly (a time in another
// zone, numbers past 32 bits, fields an outcome does not have) reads back
// whole, as written; one invitectl writes is held compactly.
func TestFinalKeepsEveryOutcomeExactly(t *testing.T) {
	base := func(email string) Record {
		r := outcome(email, 2, OutcomeRejected, 1)
		r.HTTPCode, r.Message, r.Detail, r.Operation, r.QuotaErrors, r.NotSent = 403, "PERMISSION_DENIED: no", "refused", "operations/1", 2, true
		return r
	}
	odd := map[string]func(*Record){
		"zone":              func(r *Record) { r.At = r.At.In(time.FixedZone("CEST", 2*3600)) },
		"row past int32":    func(r *Record) { r.Row = math.MaxInt32 + 1 },
		"row below int32":   func(r *Record) { r.Row = math.MinInt32 - 1 },
		"attempts past":     func(r *Record) { r.Attempts = math.MaxInt32 + 1 },
		"quota errors past": func(r *Record) { r.QuotaErrors = math.MaxInt32 + 1 },
		"http code past":    func(r *Record) { r.HTTPCode = math.MaxInt32 + 1 },
		"attempt":           func(r *Record) { r.Attempt = 3 },
		"event":             func(r *Record) { r.Event = EventEnd },
		"pid":               func(r *Record) { r.PID = 7 },
		"counts":            func(r *Record) { r.Counts = &RunCounts{Done: 1} },
		"pace":              func(r *Record) { r.Pace = &pace.State{} },
	}
	var recs []Record
	want := map[string]Record{}
	for name, change := range odd {
		r := base(strings.ReplaceAll(name, " ", "-") + "@x.org")
		change(&r)
		recs = append(recs, r)
		want[r.Key()] = r
	}
	plain := base("plain@x.org")
	plain.Row = math.MaxInt32 // the edge of what fits
	edge := base("edge@x.org")
	edge.Row, edge.Attempts = 3, math.MinInt32
	recs = append(recs, plain, edge)
	want[plain.Key()], want[edge.Key()] = plain, edge

	st := readBack(t, recs...)
	for k, w := range want {
		got, ok := st.Final(k)
		if !ok || line(t, got) != line(t, w) {
			t.Errorf("%s: read back\n%s want\n%s", k, line(t, got), line(t, w))
		}
	}
	if len(st.odd) != len(odd) {
		t.Errorf("%d outcomes kept whole, want the %d odd ones only", len(st.odd), len(odd))
	}
	for _, k := range []string{plain.Key(), edge.Key()} {
		i, _ := st.index.Get(k, st.keyIs(k))
		if st.finals[i].odd {
			t.Errorf("%s kept whole; it fits the compact form", k)
		}
	}
}

// More distinct reasons, actions and outcomes than the compact form can
// number still read back exactly.
func TestFinalPastTheCodes(t *testing.T) {
	n := math.MaxUint16 + 10
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = outcome(fmt.Sprintf("p%06d@x.org", i), i+2, OutcomeDone, 1)
		recs[i].Reason = fmt.Sprintf("reason-%06d", i)
	}
	st := readBack(t, recs...)
	if len(st.codes) != math.MaxUint16+1 {
		t.Errorf("%d codes, want every one a uint16 numbers (%d)", len(st.codes), math.MaxUint16+1)
	}
	for _, i := range []int{0, math.MaxUint16 - 3, n - 1} {
		got, ok := st.Final(recs[i].Key())
		if !ok || got.Reason != recs[i].Reason || got.Outcome != OutcomeDone {
			t.Errorf("record %d: %+v, want reason %s", i, got, recs[i].Reason)
		}
	}
}

// The counts a state keeps: intents, retries (attempts after the first),
// quota errors, records; and the runs, each from its start record (or the
// first record) to its latest, with its last event and the latest pace.
func TestStateCounts(t *testing.T) {
	p1, p2 := &pace.State{}, &pace.State{}
	end := runEvent(EventEnd, 5)
	end.Pace = p1
	o := outcome("a@x.org", 2, OutcomeDone, 3)
	o.QuotaErrors = 2
	o2 := outcome("b@x.org", 3, OutcomeDone, 12)
	o2.QuotaErrors = 1
	interrupted := runEvent(EventInterrupted, 13)
	interrupted.Pace = p2
	st := readBack(t,
		runEvent(EventStart, 1), intent("a@x.org", 2, 1, 2), intent("a@x.org", 2, 2, 2.5), intent("a@x.org", 2, 3, 2.7), o, end,
		runEvent(EventStart, 10), intent("b@x.org", 3, 2, 11), o2, interrupted,
		intent("c@x.org", 4, 1, 14))
	if st.Records != 11 || st.Intents != 5 || st.Retries != 3 || st.QuotaErrors != 3 || len(st.Pending) != 1 {
		t.Errorf("records %d, intents %d, retries %d, quota errors %d, pending %d; want 11, 5, 3, 3, 1",
			st.Records, st.Intents, st.Retries, st.QuotaErrors, len(st.Pending))
	}
	want := []Run{
		{Start: at(1), Last: at(5), PID: 42, Event: EventEnd},
		{Start: at(10), Last: at(14), PID: 42, Event: EventInterrupted},
	}
	if len(st.Runs) != 2 || st.Runs[0] != want[0] || st.Runs[1] != want[1] {
		t.Errorf("runs %+v, want %+v", st.Runs, want)
	}
	if st.Runs[0].Active() != 4*time.Second {
		t.Errorf("first run active %v, want 4s", st.Runs[0].Active())
	}
	if st.Pace == nil {
		t.Error("no pace kept")
	}
	// A journal without a start record: its first record starts the run,
	// and an earlier time later on does not move its end back.
	st = readBack(t, intent("a@x.org", 2, 1, 7), outcome("a@x.org", 2, OutcomeDone, 6))
	if len(st.Runs) != 1 || st.Runs[0].Start != at(7) || st.Runs[0].Last != at(7) || st.Runs[0].Event != EventStart {
		t.Errorf("runs %+v, want one from the first record, still going", st.Runs)
	}
}

// The journal's own state after Close holds what it appended, on top of
// what Open read.
func TestJournalStateAfterClose(t *testing.T) {
	path := journalPath(t)
	j := mustCreate(t, path, intent("a@x.org", 2, 1, 1), outcome("a@x.org", 2, OutcomeDone, 2))
	if j.State() != nil {
		t.Error("a state before Close")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	end := runEvent(EventEnd, 6)
	end.Pace = &pace.State{}
	if err := j2.Append(intent("b@x.org", 3, 1, 3), outcome("b@x.org", 3, OutcomeFailed, 4), intent("c@x.org", 4, 1, 5), end); err != nil {
		t.Fatal(err)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	st := j2.State()
	a, okA := st.Final("a@x.org")
	b, okB := st.Final("b@x.org")
	_, pending := st.Pending["c@x.org"]
	if !okA || a.Outcome != OutcomeDone || !okB || b.Outcome != OutcomeFailed || !pending || st.Records != 6 {
		t.Errorf("state after Close: a %+v, b %+v, c pending %v, %d records", a, b, pending, st.Records)
	}
	// The run the reopened journal continued is one run, from its first
	// record to its end; the pace its end learned is kept.
	if len(st.Runs) != 1 || st.Runs[0].Start != at(1) || st.Runs[0].Last != at(6) || st.Runs[0].Event != EventEnd || st.Pace == nil {
		t.Errorf("runs %+v, pace %v; want one run from 1 s to its end at 6 s, and its pace", st.Runs, st.Pace)
	}

	// A journal with no record yet, reopened and appended to.
	path = journalPath(t)
	if err := mustCreate(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	j3, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j3.Append(intent("d@x.org", 2, 1, 7)); err != nil {
		t.Fatal(err)
	}
	if err := j3.Close(); err != nil {
		t.Fatal(err)
	}
	if st := j3.State(); len(st.Runs) != 1 || st.Runs[0].Start != at(7) || len(st.Pending) != 1 {
		t.Errorf("runs %+v, pending %v; want one run from the appended intent, and it pending", st.Runs, st.Pending)
	}
}

// plainKey takes the fast path exactly for addresses that address.Key
// would return as they are: ASCII, no upper case, no space at either end.
func TestPlainKey(t *testing.T) {
	for s, want := range map[string]bool{
		"ann@example.org": true, "a.b+c@x-y.example": true, "0@9.example": true,
		"": false, "Ann@example.org": false, "Zed@example.org": false, "ann@exampleZ.org": false,
		" ann@example.org": false, "ann@example.org ": false, "\tann@example.org": false, "ann@example.org\r": false,
		"\nann@example.org": false, "ann@example.org\u00a0": false, "ånn@example.org": false,
	} {
		if got := plainKey(s); got != want {
			t.Errorf("plainKey(%q) = %v, want %v", s, got, want)
		}
	}
}

// The fast decoder takes exactly the lines a Journal writes and leaves
// anything else to encoding/json, which reads them the same or refuses
// them: a repeated key, a bad time, an unknown field, a run's counts.
func TestFastDecoderTakesOnlyJournalLines(t *testing.T) {
	d := newDecoder()
	written := outcome("a@x.org", 2, OutcomeDone, 1)
	written.Operation, written.Detail, written.NotSent = "operations/1", "state INVITED", true
	var r Record
	if !d.scan([]byte(strings.TrimSpace(line(t, written))), &r) || line(t, r) != line(t, written) {
		t.Errorf("a written line not taken by the fast path, or read as %+v", r)
	}
	for _, l := range []string{
		`{"type":"outcome","email":"a@x.org","email":"b@x.org"}`,
		`{"type":"outcome","at":"yesterday","email":"a@x.org"}`,
		`{"type":"outcome","at":"2026-01-01T00:00:00Z","email":"a@x.org","shoeSize":42}`,
		`{"type":"run","at":"2026-01-01T00:00:00Z","event":"end","counts":{"done":1}}`,
	} {
		if d.scan([]byte(l), &Record{}) {
			t.Errorf("fast path took %s", l)
		}
	}
	var l decoded
	if err := d.decode([]byte(`{"type":"outcome","at":"yesterday"}`), &l); err == nil {
		t.Error("a bad time decoded")
	}
}

// The 429s of a call interrupted in its backoff are in no outcome, only in
// its run's counts; a killed run writes no counts, and its items' outcomes
// (finished by a later run) are all that is left.
func TestQuotaErrorsSeen(t *testing.T) {
	interrupted := runEvent(EventInterrupted, 3)
	interrupted.Counts = &RunCounts{QuotaErrors: 4}
	o := outcome("a@x.org", 2, OutcomeDone, 12)
	o.QuotaErrors = 1
	end := runEvent(EventEnd, 13)
	end.Counts = &RunCounts{QuotaErrors: 1}
	st := readBack(t, runEvent(EventStart, 1), intent("a@x.org", 2, 1, 2), interrupted,
		runEvent(EventStart, 10), intent("a@x.org", 2, 2, 11), o, end)
	if st.QuotaErrors != 1 || st.QuotaErrorsSeen() != 5 {
		t.Errorf("outcomes' %d, seen %d; want 1 and the runs' 5", st.QuotaErrors, st.QuotaErrorsSeen())
	}
	killed := readBack(t, runEvent(EventStart, 1), intent("a@x.org", 2, 1, 2), o)
	if killed.QuotaErrorsSeen() != 1 {
		t.Errorf("seen %d without run counts, want the outcomes' 1", killed.QuotaErrorsSeen())
	}
}
