package journal

import (
	"iter"
	"math"
	"time"

	"github.com/invitectl/invitectl/pkg/jsonl"
	"github.com/invitectl/invitectl/pkg/pace"
)

// State is what a journal says once read: the last outcome of every plan
// item, the intents still unanswered, and the activity the summary needs.
// It keeps the last outcome of each item, never every record, in a compact
// form that holds no pointer for the garbage collector to scan: about 110
// bytes and its strings (the address, the operation, and messages that do
// not repeat), where a Record takes 240 and its strings, so a journal of
// 1,000,000 items costs about 160 MB.
type State struct {
	Header Header
	// Pending holds the intents with no outcome after them, keyed by
	// ItemKey: calls whose fate is unknown, which the executor must
	// reconcile. They are few: at most the calls in flight when a run
	// stopped. An Intent, not a Record: a map stores a value over 128
	// bytes apart, so a Record there cost an allocation per intent read.
	Pending map[string]Intent
	// Records counts the records read (the header is not one); Torn says a
	// torn last line was found (and, by Open, truncated away).
	Records int
	Torn    bool

	// Runs are the runs that appended to the journal, in order.
	Runs []Run
	// Pace is what the latest run that recorded it learned of the quota.
	Pace *pace.State
	// Intents counts the intent records: one per mutating call that left
	// (or may have left). Retries counts those with Attempt > 1.
	Intents int
	Retries int
	// QuotaErrors sums QuotaErrors over all outcome records. Those of
	// calls that never got an outcome (a run interrupted in a backoff) are
	// only in the counts of the run records: see QuotaErrorsSeen.
	QuotaErrors int
	// runQuotaErrors sums the quota errors the run records counted.
	runQuotaErrors int

	// index maps each item's key to its last outcome in finals, in the
	// order the items first got one; strs holds their strings.
	index  *jsonl.Index
	finals []final
	strs   jsonl.Strings
	// codes are the actions, reasons and outcomes that finals name by
	// number, and codeOf their numbers.
	codes  []string
	codeOf map[string]uint16
	// odd holds, whole, the outcomes a final cannot hold exactly (a time
	// not in UTC, a number past int32, a field an outcome does not have),
	// by their index in finals; a journal invitectl wrote has none.
	odd map[int32]Record
}

// final is an item's last outcome record, compactly: a Record whose
// strings are in State.strs, whose enumerations are numbers, and whose time
// is two integers; and the item's key.
type final struct {
	key, email, message, detail, operation     jsonl.Ref
	sec                                        int64
	nsec, row, attempts, quotaErrors, httpCode int32
	action, reason, outcome                    uint16
	notSent, odd                               bool
}

// Run is one apply or resume as the journal saw it.
type Run struct {
	Start time.Time // its start record, or its first record if none
	Last  time.Time // its latest record
	PID   int
	// Event is the last run event seen: start, interrupted or end; start
	// means the run is still going or was killed.
	Event string
}

// Active is how long the run was working: from its start to its last record.
func (r Run) Active() time.Duration { return r.Last.Sub(r.Start) }

// newState is the state of a journal with header h and no record yet;
// items, when positive, sizes it for that many items.
func newState(h Header, items int) *State {
	return &State{
		Header:  h,
		Pending: map[string]Intent{},
		index:   jsonl.NewIndex(items),
		finals:  make([]final, 0, items),
		codeOf:  map[string]uint16{},
	}
}

// Final returns the last outcome record of the item that key (see ItemKey)
// names.
func (s *State) Final(key string) (Record, bool) {
	i, ok := s.index.Get(key, s.keyIs(key))
	if !ok {
		return Record{}, false
	}
	return s.record(i), true
}

// keyIs reports whether final i is the item key names.
func (s *State) keyIs(key string) func(i int32) bool {
	return func(i int32) bool { return s.strs.Get(s.finals[i].key) == key }
}

// QuotaErrorsSeen is how many 429s the runs met, as well as the journal
// tells: the runs' own counts, or the outcomes' when they hold more (a
// killed run writes no count).
func (s *State) QuotaErrorsSeen() int { return max(s.QuotaErrors, s.runQuotaErrors) }

// NumFinal is the number of items with an outcome.
func (s *State) NumFinal() int { return len(s.finals) }

// Finals yields the key and the last outcome record of every item that has
// one, in the order the items first got one.
func (s *State) Finals() iter.Seq2[string, Record] {
	return func(yield func(string, Record) bool) {
		for i := range s.finals {
			if !yield(s.strs.Get(s.finals[i].key), s.record(int32(i))) {
				return
			}
		}
	}
}

func (s *State) record(i int32) Record {
	f := &s.finals[i]
	if f.odd {
		return s.odd[i]
	}
	return Record{
		Type: TypeOutcome, At: time.Unix(f.sec, int64(f.nsec)).UTC(),
		Row: int(f.row), Email: s.strs.Get(f.email), Action: s.codes[f.action], Reason: s.codes[f.reason],
		Outcome: s.codes[f.outcome], Attempts: int(f.attempts), QuotaErrors: int(f.quotaErrors),
		HTTPCode: int(f.httpCode), Message: s.strs.Get(f.message), Operation: s.strs.Get(f.operation),
		Detail: s.strs.Get(f.detail), NotSent: f.notSent,
	}
}

// setFinal makes r the last outcome of the item key names.
func (s *State) setFinal(key string, r Record) {
	f, exact := s.compact(r)
	f.key = f.email // one string for both
	if key != r.Email {
		f.key = s.strs.Add(key)
	}
	i, ok := s.index.Add(key, int32(len(s.finals)), s.keyIs(key))
	if !ok {
		s.finals = append(s.finals, final{})
	}
	delete(s.odd, i)
	if !exact {
		if s.odd == nil {
			s.odd = map[int32]Record{}
		}
		s.odd[i] = r
		f.odd = true
	}
	s.finals[i] = f
}

// compact returns r as a final, and whether that holds it exactly.
func (s *State) compact(r Record) (final, bool) {
	f := final{
		email: s.strs.Add(r.Email), message: s.strs.Share(r.Message), detail: s.strs.Share(r.Detail),
		operation: s.strs.Add(r.Operation), sec: r.At.Unix(), nsec: int32(r.At.Nanosecond()), notSent: r.NotSent,
		row: int32(r.Row), attempts: int32(r.Attempts), quotaErrors: int32(r.QuotaErrors), httpCode: int32(r.HTTPCode),
	}
	var ok [3]bool
	f.action, ok[0] = s.code(r.Action)
	f.reason, ok[1] = s.code(r.Reason)
	f.outcome, ok[2] = s.code(r.Outcome)
	exact := ok == [3]bool{true, true, true} && r.At.Location() == time.UTC &&
		fits32(r.Row) && fits32(r.Attempts) && fits32(r.QuotaErrors) && fits32(r.HTTPCode) &&
		r.Type == TypeOutcome && r.Attempt == 0 && r.Event == "" && r.PID == 0 && r.Counts == nil && r.Pace == nil
	return f, exact
}

// code returns the number of v, which it assigns when v is new; false when
// there is no room left.
func (s *State) code(v string) (uint16, bool) {
	if c, ok := s.codeOf[v]; ok {
		return c, true
	}
	if len(s.codes) > math.MaxUint16 {
		return 0, false
	}
	c := uint16(len(s.codes))
	s.codes = append(s.codes, v)
	s.codeOf[v] = c
	return c, true
}

func fits32(n int) bool { return n >= math.MinInt32 && n <= math.MaxInt32 }

// add folds one record into the state; key is its ItemKey (intents and
// outcomes).
func (s *State) add(r Record, key string) {
	s.Records++
	s.track(r)
	switch r.Type {
	case TypeIntent:
		s.Intents++
		if r.Attempt > 1 {
			s.Retries++
		}
		s.Pending[key] = intentOf(r)
	case TypeOutcome:
		delete(s.Pending, key)
		s.setFinal(key, r)
		s.QuotaErrors += r.QuotaErrors
	}
}

// Intent is an intent record that has no outcome after it (State.Pending):
// the fields an intent has.
type Intent struct {
	At                    time.Time
	Row                   int
	Email, Action, Reason string
	Attempt               int
}

func intentOf(r Record) Intent {
	return Intent{At: r.At, Row: r.Row, Email: r.Email, Action: r.Action, Reason: r.Reason, Attempt: r.Attempt}
}

// Record is the intent as the record it was read from.
func (i Intent) Record() Record {
	return Record{Type: TypeIntent, At: i.At, Row: i.Row, Email: i.Email, Action: i.Action, Reason: i.Reason, Attempt: i.Attempt}
}

// track attributes the record's time to the current run; a start record
// begins a new one.
func (s *State) track(r Record) {
	if (r.Type == TypeRun && r.Event == EventStart) || len(s.Runs) == 0 {
		s.Runs = append(s.Runs, Run{Start: r.At, Last: r.At, PID: r.PID, Event: EventStart})
	}
	run := &s.Runs[len(s.Runs)-1]
	if r.At.After(run.Last) {
		run.Last = r.At
	}
	if r.Type == TypeRun {
		run.Event = r.Event
		if r.Counts != nil {
			s.runQuotaErrors += r.Counts.QuotaErrors
		}
		if r.Pace != nil {
			s.Pace = r.Pace
		}
	}
}

// after returns a state for the records that follow s's: it carries s's
// header and current run, so that merging it back into s gives what
// reading them all would.
func (s *State) after() *State {
	later := newState(s.Header, 0)
	if n := len(s.Runs); n > 0 {
		later.Runs = []Run{s.Runs[n-1]}
	}
	return later
}

// merge folds later, made by s.after and fed the records that followed,
// into s: as if s had read those records too. The file then has no torn
// line: the one Open found was truncated.
func (s *State) merge(later *State) {
	for k, r := range later.Finals() {
		if _, pending := later.Pending[k]; !pending {
			delete(s.Pending, k) // the item's last record is this outcome
		}
		s.setFinal(k, r)
	}
	for k, r := range later.Pending {
		s.Pending[k] = r
	}
	if len(s.Runs) > 0 {
		s.Runs = s.Runs[:len(s.Runs)-1] // later carries it on
	}
	s.Runs = append(s.Runs, later.Runs...)
	if later.Pace != nil {
		s.Pace = later.Pace
	}
	s.Records += later.Records
	s.Intents += later.Intents
	s.Retries += later.Retries
	s.QuotaErrors += later.QuotaErrors
	s.runQuotaErrors += later.runQuotaErrors
	s.Torn = false
}
