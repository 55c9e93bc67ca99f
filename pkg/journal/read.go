package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/invitectl/invitectl/pkg/pace"
)

// State is what a journal says once read: the last outcome of every plan
// item, the intents still unanswered, and the activity the summary needs.
// It holds one record per item (not every record), so a journal of 1,000,000
// items costs one Record per item in memory.
type State struct {
	Header Header
	// Final holds the last outcome record of each plan item, keyed by
	// ItemKey: the lower-case email for send, cancel and pruned items.
	Final map[string]Record
	// Pending holds the intents with no outcome after them, keyed like
	// Final: calls whose fate is unknown, which the executor must reconcile.
	Pending map[string]Record
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
	// QuotaErrors sums QuotaErrors over all outcome records.
	QuotaErrors int

	strs map[string]string // interned enumerations, to keep Final small
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

// readState reads the journal in f into a new State.
func readState(f *os.File, name string) (*State, scanResult, error) {
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	st := &State{}
	res, err := scan(f, name, func(h Header) { st.init(h, size) }, st.add)
	if err != nil {
		return nil, res, err
	}
	st.Torn = res.torn
	return st, res, nil
}

// init sizes Final for the plan's items up front, which saves the map's
// growth (and the garbage of its old tables) on big journals; the file's
// size bounds the guess, as a record takes more than 64 bytes.
func (s *State) init(h Header, fileSize int64) {
	s.Header = h
	hint := min(int64(max(h.Plan.Items, 0)), fileSize/64)
	s.Final = make(map[string]Record, hint)
	s.Pending = map[string]Record{}
	s.strs = map[string]string{}
}

// add folds one record into the state.
func (s *State) add(_ int, r Record) error {
	s.Records++
	r.Type, r.Action, r.Reason, r.Outcome = s.intern(r.Type), s.intern(r.Action), s.intern(r.Reason), s.intern(r.Outcome)
	s.track(r)
	switch r.Type {
	case TypeIntent:
		s.Intents++
		if r.Attempt > 1 {
			s.Retries++
		}
		s.Pending[r.Key()] = r
	case TypeOutcome:
		k := r.Key()
		delete(s.Pending, k)
		s.Final[k] = r
		s.QuotaErrors += r.QuotaErrors
	}
	return nil
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
		if r.Pace != nil {
			s.Pace = r.Pace
		}
	}
}

func (s *State) intern(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := s.strs[v]; ok {
		return c
	}
	if len(s.strs) < 256 { // enumerations are few; anything else is not worth keeping
		s.strs[v] = v
	}
	return v
}

// Read reads the journal at path into a State, without locking or modifying
// it, so it can run while apply appends. A torn last line is ignored (and
// State.Torn set).
func Read(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read results journal: %w", err)
	}
	defer f.Close()
	st, _, err := readState(f, path)
	return st, err
}

// Scan streams the journal at path, calling fn for every record in order
// with its line number, without locking or modifying the file. A torn last
// line is skipped and reported by torn. An error from fn stops the scan and
// is returned.
func Scan(path string, fn func(line int, r Record) error) (h Header, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, false, fmt.Errorf("read results journal: %w", err)
	}
	defer f.Close()
	res, err := scan(f, path, nil, fn)
	return res.header, res.torn, err
}

// scanResult is what scan learnt besides the records.
type scanResult struct {
	header   Header
	size     int64 // bytes up to the end of the last good line
	torn     bool
	tornLine int
}

// scan reads a journal: the header, which it passes to onHeader (if not
// nil), then every record, which it passes to fn. The last line is torn
// when it has no newline or is not valid JSON; any other bad line is an
// error naming its line.
func scan(r io.Reader, name string, onHeader func(Header), fn func(line int, rec Record) error) (scanResult, error) {
	var res scanResult
	br := bufio.NewReaderSize(r, 64<<10)
	if err := readHeader(br, name, &res); err != nil {
		return res, err
	}
	if onHeader != nil {
		onHeader(res.header)
	}
	for n := 2; ; n++ {
		line, complete, err := readLine(br)
		if err != nil {
			return res, fmt.Errorf("read %s line %d: %w", name, n, err)
		}
		if !complete {
			if len(line) > 0 {
				res.torn, res.tornLine = true, n
			}
			return res, nil
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			if atEOF(br) {
				res.torn, res.tornLine = true, n
				return res, nil
			}
			return res, fmt.Errorf("read %s line %d: corrupt record: %w", name, n, err)
		}
		if err := fn(n, rec); err != nil {
			return res, err
		}
		res.size += int64(len(line)) + 1
	}
}

func readHeader(br *bufio.Reader, name string, res *scanResult) error {
	line, complete, err := readLine(br)
	switch {
	case err != nil:
		return fmt.Errorf("read %s line 1: %w", name, err)
	case len(line) == 0 && !complete:
		return fmt.Errorf("read %s: %w", name, ErrEmpty)
	case !complete:
		return fmt.Errorf("read %s line 1: incomplete header (was its creation interrupted?): %w", name, ErrNotJournal)
	}
	h := &res.header
	if err := json.Unmarshal(line, h); err != nil {
		return fmt.Errorf("read %s line 1: %w (%v)", name, ErrNotJournal, err)
	}
	if h.Kind != Kind {
		return fmt.Errorf("read %s line 1: kind %q: %w", name, h.Kind, ErrNotJournal)
	}
	if h.Version != Version {
		return fmt.Errorf("read %s line 1: journal version %d, this invitectl reads version %d: %w", name, h.Version, Version, ErrNotJournal)
	}
	res.size = int64(len(line)) + 1
	return nil
}

// readLine returns the next line without its newline; complete is false for
// a last line with no newline (possibly empty, at the end of the file).
func readLine(br *bufio.Reader) (line []byte, complete bool, err error) {
	line, err = br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	switch {
	case err == nil:
		return line[:len(line)-1], true, nil
	case errors.Is(err, io.EOF):
		return line, false, nil
	default:
		return nil, false, err
	}
}

func atEOF(br *bufio.Reader) bool {
	_, err := br.Peek(1)
	return errors.Is(err, io.EOF)
}
