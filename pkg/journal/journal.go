package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/invitectl/invitectl/pkg/atomicfile"
)

// Journal appends records to a locked journal file.
type Journal struct {
	path string
	f    *os.File
	sync func(*os.File) error // f.Sync; tests slow it down

	mu      sync.Mutex
	buf     []byte   // encoded records waiting for the writer
	recs    []Record // the same records, to fold into state once written
	spare   []byte   // the writer's previous buffer, reused
	spareR  []Record // and records
	waiting *batch   // callers waiting for buf to be durable
	writing *batch   // the batch being written, for Append() to wait on
	queued  int      // records in buf
	err     error    // sticky: after a failed write nothing more is written
	closed  bool
	records int
	syncs   int

	kick      chan struct{} // wakes the writer; capacity 1, never closed
	done      chan struct{} // closed when the writer has exited
	closeOnce sync.Once
	closeErr  error

	// written is what the records written since Create or Open say; only
	// the writer touches it until Close. opened is the State Open read
	// (nil after Create), which State brings up to date once.
	written   *State
	opened    *State
	stateOnce sync.Once
}

// batch is one group commit: every caller whose records are in it waits on
// done and then reads err.
type batch struct {
	done chan struct{}
	err  error
}

// options are the seams tests use.
type options struct {
	sync func(*os.File) error
}

func defaultOptions() options {
	return options{sync: (*os.File).Sync}
}

// Create makes a new journal at path, refusing (fs.ErrExist) if the file
// exists. The file appears whole: the header is written and made durable in
// a temporary file that is then linked into place, so a crash never leaves
// an empty or headless journal. Kind and Version are filled in, and
// CreatedAt when zero. One process appends at a time: the executor holds
// the plan's run lock (see ledger.LockRun) while it does.
func Create(path string, h Header) (*Journal, error) {
	return create(path, h, defaultOptions())
}

func create(path string, h Header, o options) (*Journal, error) {
	h.Kind, h.Version = Kind, Version
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	line, err := encode(h)
	if err != nil {
		return nil, fmt.Errorf("create results journal %s: %w", path, err)
	}
	err = atomicfile.CreateNew(path, func(w io.Writer) error { _, err := w.Write(line); return err })
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("results journal %s already exists (resume it, or choose another file): %w", path, fs.ErrExist)
	}
	if err != nil {
		return nil, fmt.Errorf("create results journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("create results journal: %w", err)
	}
	return start(path, f, o, newState(h, 0), nil), nil
}

// Open reopens an existing journal for appending, as resume does: it reads
// every record into a State and truncates a torn last line (a crash
// mid-write: no trailing newline or not valid JSON), which was never
// acknowledged as durable. An empty file is refused with ErrEmpty.
func Open(path string) (*Journal, *State, error) {
	return open(path, defaultOptions())
}

func open(path string, o options) (*Journal, *State, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open results journal: %w", err)
	}
	st, good, err := readState(f, path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if good.torn {
		if err := f.Truncate(good.size); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("results journal %s: truncate torn line %d: %w", path, good.tornLine, err)
		}
		if err := o.sync(f); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("results journal %s: sync: %w", path, err)
		}
	}
	return start(path, f, o, st.after(), st), st, nil
}

func start(path string, f *os.File, o options, written, opened *State) *Journal {
	j := &Journal{
		path:    path,
		f:       f,
		sync:    o.sync,
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		written: written,
		opened:  opened,
	}
	go j.writer()
	return j
}

// Stats returns the records appended and the fsyncs made for them since
// Create or Open (the header's and a truncation's are not counted).
func (j *Journal) Stats() (records, syncs int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.records, j.syncs
}

// Append writes records and returns once they, and everything queued before
// them, are durable. Safe for concurrent use. Append with no records waits
// for what AppendAsync queued.
func (j *Journal) Append(recs ...Record) error {
	data, err := encodeRecords(recs)
	if err != nil {
		return fmt.Errorf("results journal %s: %w", j.path, err)
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return fmt.Errorf("%s: %w", j.path, ErrClosed)
	}
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return err
	}
	j.buf = append(j.buf, data...)
	j.recs = append(j.recs, recs...)
	j.queued += len(recs)
	var b *batch
	if len(j.buf) > 0 {
		b = j.nextBatch()
	} else if b = j.writing; b == nil {
		j.mu.Unlock()
		return nil // nothing queued, nothing in flight
	}
	j.mu.Unlock()
	j.wake()
	<-b.done
	return b.err
}

// nextBatch returns the batch that the queued records will be committed in.
// j.mu must be held.
func (j *Journal) nextBatch() *batch {
	if j.waiting == nil {
		j.waiting = &batch{done: make(chan struct{})}
	}
	return j.waiting
}

// AppendAsync queues records and returns at once; they are durable after the
// next group commit, which it starts. Close flushes them, and a write error
// is returned by the next Append and by Close. Records queued after Close are
// dropped: stop the workers first.
func (j *Journal) AppendAsync(recs ...Record) {
	data, err := encodeRecords(recs)
	j.mu.Lock()
	switch {
	case j.closed:
	case err != nil:
		if j.err == nil {
			j.err = fmt.Errorf("results journal %s: %w", j.path, err)
		}
	case j.err == nil:
		j.buf = append(j.buf, data...)
		j.recs = append(j.recs, recs...)
		j.queued += len(recs)
	}
	j.mu.Unlock()
	j.wake()
}

func (j *Journal) wake() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// writer is the one goroutine that writes: it takes everything queued, writes
// it with one write and one fsync, and releases the batch's callers. Callers
// that arrive during the fsync form the next batch.
func (j *Journal) writer() {
	defer close(j.done)
	for range j.kick {
		for j.commitOnce() {
		}
		j.mu.Lock()
		exit := j.closed && len(j.buf) == 0
		j.mu.Unlock()
		if exit {
			return
		}
	}
}

// commitOnce commits what is queued and reports whether there was anything.
func (j *Journal) commitOnce() bool {
	j.mu.Lock()
	if len(j.buf) == 0 {
		j.mu.Unlock()
		return false
	}
	b := j.nextBatch()
	buf, recs, n, failed := j.buf, j.recs, j.queued, j.err
	j.buf, j.spare, j.recs, j.spareR, j.waiting, j.queued = j.spare[:0], nil, j.spareR[:0], nil, nil, 0
	j.writing = b
	j.mu.Unlock()
	err := failed
	if err == nil {
		err = j.write(buf)
	}
	if err == nil {
		for _, r := range recs {
			j.written.add(r, keyOf(r))
		}
	}
	clear(recs) // let go of their strings
	j.mu.Lock()
	j.spare, j.spareR, j.writing = buf[:0], recs[:0], nil
	if failed == nil {
		j.syncs++
		if err == nil {
			j.records += n
		} else {
			// A failed write may have left part of a line; writing after it
			// would put a corrupt line in the middle, and a failed fsync
			// cannot be retried safely. Resume truncates the torn tail.
			j.err = err
		}
	}
	b.err = err // written before close, read after it by the waiters
	j.mu.Unlock()
	close(b.done)
	return true
}

func (j *Journal) write(buf []byte) error {
	if _, err := j.f.Write(buf); err != nil {
		return fmt.Errorf("results journal %s: write: %w", j.path, err)
	}
	if err := j.sync(j.f); err != nil {
		return fmt.Errorf("results journal %s: sync: %w", j.path, err)
	}
	return nil
}

// Close flushes what is queued, makes it durable and closes the file. It returns the first write error of the journal's life,
// if any. Idempotent.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		j.mu.Lock()
		j.closed = true
		j.mu.Unlock()
		j.wake()
		<-j.done
		j.mu.Lock()
		err := j.err
		j.mu.Unlock()
		if cerr := j.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("results journal %s: close: %w", j.path, cerr)
		}
		j.closeErr = err
	})
	return j.closeErr
}

// State returns, once Close has returned, what the journal holds: the State
// Open returned, brought up to date with every record written since (the
// same State, changed in place), or for Create a new State. It spares
// reading the journal again at the end of a run. Records whose write failed
// are not in it. Before Close it returns nil.
func (j *Journal) State() *State {
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if !closed {
		return nil
	}
	<-j.done
	j.stateOnce.Do(func() {
		if j.opened != nil {
			j.opened.merge(j.written)
			j.written = j.opened
		}
	})
	return j.written
}

// keyOf is the key of the item r belongs to; "" for a run record.
func keyOf(r Record) string {
	if r.Type == TypeIntent || r.Type == TypeOutcome {
		return r.Key()
	}
	return ""
}

// encode writes v as one JSON line, without HTML escaping.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodeRecords(recs []Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return nil, fmt.Errorf("encode %s record for %q: %w", recs[i].Type, recs[i].Email, err)
		}
	}
	return b.Bytes(), nil
}
