package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/invitectl/invitectl/pkg/jsonl"
)

// readState reads the journal in f into a new State.
func readState(f *os.File, name string) (*State, scanResult, error) {
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	var st *State
	res, err := scan(f, name, func(h Header) {
		// Sized for the plan's items up front, which saves the growth
		// on big journals; the file's size bounds the guess, as an item
		// that made a call takes two records of about 200 bytes.
		st = newState(h, int(min(int64(max(h.Plan.Items, 0)), size/400)))
	}, func(_ int, l *decoded) error {
		st.add(l.rec, l.key)
		return nil
	})
	if err != nil {
		return nil, res, err
	}
	st.Torn = res.torn
	return st, res, nil
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
	res, err := scan(f, path, nil, func(n int, l *decoded) error { return fn(n, l.rec) })
	return res.header, res.torn, err
}

// ReadHeader reads the journal's first line alone: what resume needs to find
// the plan.
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, fmt.Errorf("read results journal: %w", err)
	}
	defer f.Close()
	var res scanResult
	err = readHeader(bufio.NewReader(f), path, &res)
	return res.header, err
}

// scanResult is what scan learnt besides the records.
type scanResult struct {
	header   Header
	size     int64 // bytes up to the end of the last good line
	torn     bool
	tornLine int
}

// scan reads a journal: the header, which it passes to onHeader (if not
// nil), then every record, which it passes to fn with its line number, in
// order; the records are decoded on every core. The last line is torn when
// it has no newline or is not valid JSON; any other bad line is an error
// naming its line.
func scan(r io.Reader, name string, onHeader func(Header), fn func(n int, l *decoded) error) (scanResult, error) {
	var res scanResult
	br := bufio.NewReaderSize(r, 64<<10)
	if err := readHeader(br, name, &res); err != nil {
		return res, err
	}
	if onHeader != nil {
		onHeader(res.header)
	}
	// A line that does not decode is torn if it is the last one: its error
	// waits until the next line shows it is not.
	var bad, stop error // stop: an error of fn's, or bad, returned as is
	last := 1           // the last line seen
	tail, err := jsonl.Decode(br, 2, 0, func() func([]byte, *decoded) error { return newDecoder().decode },
		func(n int, b []byte, l *decoded, err error) error {
			switch {
			case bad != nil:
				stop = bad
			case err != nil:
				bad = fmt.Errorf("read %s line %d: corrupt record: %w", name, n, err)
			default:
				stop = fn(n, l)
				res.size += int64(len(b)) + 1
			}
			last = n
			return stop
		})
	switch {
	case stop != nil:
		return res, stop
	case err != nil:
		return res, fmt.Errorf("read %s line %d: %w", name, last+1, err)
	case bad != nil && len(tail) > 0:
		return res, bad
	case bad != nil:
		res.torn, res.tornLine = true, last
	case len(tail) > 0:
		res.torn, res.tornLine = true, last+1
	}
	return res, nil
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
