package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/invitectl/invitectl/pkg/atomicfile"
)

// Ledger is one customer's ledger, open in this process. Safe for concurrent
// use. Reads see what every process appended up to their last catch-up;
// Reserve always catches up first, under the lock.
type Ledger struct {
	path     string
	customer string
	since    int64  // ms: settled calls older than this are forgotten
	own      string // the ID of a source whose calls are not kept
	f        *os.File
	lock     *flock.Flock
	sync     func(*os.File) error // f.Sync; tests observe or fail it

	mu      sync.Mutex // guards everything below, and the index
	off     int64      // bytes of complete lines read or written
	line    int        // lines read or written
	index   map[string]*entry
	sources map[string]*Source
	queue   []*request
	err     error // sticky: after a failed write nothing more is written
	closed  bool

	kick    chan struct{}
	done    chan struct{}
	started sync.Once
	stopped sync.Once
	records int // records appended by this process
	syncs   int // fsyncs made for them
}

// entry is what the ledger keeps of one address: the latest call of each
// source that may matter (open, took effect or unknown, or settled after
// since).
type entry struct {
	first call
	more  []call
}

type call struct {
	at     int64 // ms
	src    *Source
	action Action
	effect Effect
}

// Options are the seams of Open.
type Options struct {
	// Since: calls that settled before it are not kept (open intents always
	// are). Zero keeps everything.
	Since time.Time
	// Own is the ID of the caller's own source, whose calls are then not
	// kept at all: they never stop its Reserve, and its journal settles
	// them. Latest and Each do not see them. A resume of a long campaign
	// reads a ledger that is mostly its own earlier calls, which it then
	// neither indexes nor holds.
	Own string
	// Sync replaces (*os.File).Sync, for tests.
	Sync func(*os.File) error
}

// Open opens (creating when absent) the ledger of customer in dir, reads it,
// and returns it ready for lookups and writes. The folder is created 0700
// and the files 0600.
func Open(dir, customer string, o Options) (*Ledger, error) {
	if customer == "" || !validField(customer) {
		return nil, fmt.Errorf("ledger: invalid customer %q", customer)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger: create state folder: %w", err)
	}
	l := &Ledger{
		path:     Path(dir, customer),
		customer: customer,
		lock:     flock.New(Path(dir, customer)+".lock", flock.SetPermissions(0o600)),
		sync:     o.Sync,
		own:      o.Own,
		index:    map[string]*entry{},
		sources:  map[string]*Source{},
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if !o.Since.IsZero() {
		l.since = o.Since.UnixMilli()
	}
	if l.sync == nil {
		l.sync = (*os.File).Sync
	}
	if err := l.open(); err != nil {
		_ = l.lock.Close()
		return nil, err
	}
	return l, nil
}

// open creates the file when absent (under the lock, whole, with its
// header) and reads it all.
func (l *Ledger) open() error {
	f, err := os.OpenFile(l.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		err = l.create()
		if err == nil {
			f, err = os.OpenFile(l.path, os.O_RDWR, 0)
		}
	}
	if err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	l.f = f
	if err := l.lock.RLock(); err != nil {
		_ = f.Close()
		return fmt.Errorf("ledger %s: lock: %w", l.path, err)
	}
	l.mu.Lock()
	err = l.catchUp()
	l.mu.Unlock()
	_ = l.lock.Unlock()
	if err != nil {
		_ = f.Close()
	}
	return err
}

func (l *Ledger) create() error {
	if err := l.lock.Lock(); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer func() { _ = l.lock.Unlock() }()
	err := atomicfile.CreateNew(l.path, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s\t%d\t%s\n", magic, Version, l.customer)
		return err
	})
	if errors.Is(err, fs.ErrExist) {
		return nil // another process made it first
	}
	return err
}

// Path is the ledger's file.
func (l *Ledger) Path() string { return l.path }

// Refresh reads what other processes appended since the last read.
func (l *Ledger) Refresh() error {
	if err := l.lock.RLock(); err != nil {
		return fmt.Errorf("ledger %s: lock: %w", l.path, err)
	}
	defer func() { _ = l.lock.Unlock() }()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.catchUp()
}

// Latest returns the most recent call for email that may have emailed or
// changed the invitation: open, took effect, or unknown. email must be in
// address.Key form.
func (l *Ledger) Latest(email string) (Call, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.index[email]
	if e == nil {
		return Call{}, false
	}
	best := e.latest()
	if best == nil {
		return Call{}, false
	}
	return best.export(email), true
}

func (c *call) export(email string) Call {
	return Call{Email: email, Action: c.action, At: time.UnixMilli(c.at).UTC(), Effect: c.effect, Source: c.src}
}

func (e *entry) each(fn func(*call)) {
	if e.first.src != nil {
		fn(&e.first)
	}
	for i := range e.more {
		fn(&e.more[i])
	}
}

// NewSource makes a source with a fresh ID; a journal stores the ID in its
// header and passes it back (Source.ID) on every later run.
func NewSource() *Source {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Source{ID: hex.EncodeToString(b[:])}
}

// Conflict is a call by another source that stops a Reserve.
type Conflict struct{ Call }

func (c *Conflict) Error() string {
	switch c.Effect {
	case Pending:
		return fmt.Sprintf("%s has an unfinished %s to %s since %s", c.Source.Describe(), c.Action, c.Email, c.At.Format(time.RFC3339))
	case Unknown:
		return fmt.Sprintf("%s made a %s to %s at %s whose outcome is unknown", c.Source.Describe(), c.Action, c.Email, c.At.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s made a %s to %s at %s", c.Source.Describe(), c.Action, c.Email, c.At.Format(time.RFC3339))
}

// Claim is an intent to call: src is about to make action for Email.
type Claim struct {
	Source *Source
	Email  string // address.Key form
	Action Action
	// After: a call by another source after this time that took effect (or
	// may have) stops the claim, as does any call of another source still
	// open. For a plan's item it is the plan's creation time.
	After time.Time
	// Force records the intent without looking (a single command's --force).
	Force bool
}

// Reserve is the atomic step before a send or cancel: under the ledger's
// exclusive lock it reads what others appended, looks the address up and,
// when no other source stops it, records the intent durably. It returns a
// *Conflict naming the other source's call when one does, and then records
// nothing. The source's own calls never stop it: its journal settles them.
func (l *Ledger) Reserve(ctx context.Context, c Claim) error {
	if c.Source == nil || !validField(c.Email) || c.Email == "" {
		return fmt.Errorf("ledger: invalid claim for %q", c.Email)
	}
	r := &request{claim: &c, done: make(chan struct{})}
	return l.submit(ctx, r)
}

// Record writes the outcome of src's open intents for email, durably.
func (l *Ledger) Record(ctx context.Context, src *Source, email string, action Action, effect Effect) error {
	if effect != Took && effect != None && effect != Unknown {
		return fmt.Errorf("ledger: invalid effect %v", effect)
	}
	r := &request{outcome: &call{src: src, action: action, effect: effect}, email: email, done: make(chan struct{})}
	return l.submit(ctx, r)
}

type request struct {
	claim   *Claim
	outcome *call
	email   string
	done    chan struct{}
	err     error
}

func (l *Ledger) submit(ctx context.Context, r *request) error {
	l.started.Do(func() { go l.committer() })
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return fmt.Errorf("ledger %s is closed", l.path)
	case l.err != nil:
		err := l.err
		l.mu.Unlock()
		return err
	}
	l.queue = append(l.queue, r)
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	// The write is not cancelled once queued: an intent that becomes
	// durable after its caller gave up is only an open intent, which the
	// caller's journal settles; waiting keeps the count of calls honest.
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		<-r.done
		if r.err == nil {
			return nil
		}
		return ctx.Err()
	}
}

func (l *Ledger) committer() {
	defer close(l.done)
	for range l.kick {
		for l.commitOnce() {
		}
		l.mu.Lock()
		exit := l.closed && len(l.queue) == 0
		l.mu.Unlock()
		if exit {
			return
		}
	}
}

// commitOnce takes the queue, and under the exclusive lock catches up,
// decides every claim, appends the records with one write and one fsync,
// and answers. It reports whether there was anything.
func (l *Ledger) commitOnce() bool {
	l.mu.Lock()
	batch := l.queue
	l.queue = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return false
	}
	err := l.lock.Lock()
	if err != nil {
		err = fmt.Errorf("ledger %s: lock: %w", l.path, err)
	} else {
		err = l.commit(batch)
		if uerr := l.lock.Unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("ledger %s: unlock: %w", l.path, uerr)
		}
	}
	l.mu.Lock()
	if err != nil && l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	for _, r := range batch {
		if err != nil {
			r.err = err
		}
		close(r.done)
	}
	return true
}

// commit runs with the file lock held.
func (l *Ledger) commit(batch []*request) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if err := l.catchUp(); err != nil {
		return err
	}
	if err := l.dropTornTail(); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	var buf []byte
	declared := map[*Source]bool{}
	declare := func(s *Source) {
		if declared[s] {
			return
		}
		declared[s] = true
		if old := l.sources[s.ID]; old == s {
			return // written already by this process
		}
		s.At, s.PID = time.UnixMilli(now).UTC(), os.Getpid()
		buf = fmt.Appendf(buf, "src\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", s.ID, now, s.PID, s.Command, s.PlanSHA, quote(s.Plan), quote(s.Journal))
		l.sources[s.ID] = s
	}
	for _, r := range batch {
		switch {
		case r.claim != nil:
			c := r.claim
			if !c.Force {
				if conflict := l.conflict(c); conflict != nil {
					r.err = conflict
					continue
				}
			}
			declare(c.Source)
			buf = fmt.Appendf(buf, "i\t%d\t%s\t%c\t%s\n", now, c.Source.ID, c.Action, c.Email)
			l.apply(c.Email, call{at: now, src: c.Source, action: c.Action, effect: Pending})
		case r.outcome != nil:
			o := r.outcome
			declare(o.src)
			buf = fmt.Appendf(buf, "o\t%d\t%s\t%c\t%s\t%c\n", now, o.src.ID, o.action, r.email, o.effect)
			o.at = now
			l.apply(r.email, *o)
		}
		l.records++
	}
	if len(buf) == 0 {
		return nil
	}
	if _, err := l.f.WriteAt(buf, l.off); err != nil {
		return fmt.Errorf("ledger %s: write: %w", l.path, err)
	}
	if err := l.sync(l.f); err != nil {
		return fmt.Errorf("ledger %s: sync: %w", l.path, err)
	}
	l.syncs++
	l.off += int64(len(buf))
	l.line += bytes.Count(buf, []byte{'\n'})
	return nil
}

// conflict finds another source's call that stops c. l.mu is held.
func (l *Ledger) conflict(c *Claim) *Conflict {
	e := l.index[c.Email]
	if e == nil {
		return nil
	}
	after := c.After.UnixMilli()
	var stop *call
	e.each(func(x *call) {
		if x.src.ID == c.Source.ID || x.effect == None {
			return
		}
		if x.effect == Pending || x.at > after {
			if stop == nil || x.at > stop.at {
				stop = x
			}
		}
	})
	if stop == nil {
		return nil
	}
	return &Conflict{stop.export(c.Email)}
}

// apply folds one record into the index. An intent opens (or reopens) the
// source's call; an outcome settles it, and a settled call that can no
// longer matter (no effect, or older than since) is forgotten.
func (l *Ledger) apply(email string, c call) {
	if l.own != "" && c.src.ID == l.own {
		return
	}
	e := l.index[email]
	if e == nil {
		if c.effect != Pending {
			return // an outcome for a call already forgotten
		}
		e = &entry{}
		l.index[email] = e
	}
	var mine *call
	e.each(func(x *call) {
		if x.src == c.src || x.src.ID == c.src.ID {
			mine = x
		}
	})
	switch {
	case c.effect == Pending && mine == nil:
		if e.first.src == nil {
			e.first = c
		} else {
			e.more = append(e.more, c)
		}
		return
	case c.effect == Pending:
		*mine = c
		return
	case mine == nil:
		return
	}
	mine.effect = c.effect
	if mine.effect == None || mine.at < l.since {
		l.forget(email, e, mine)
	}
}

func (l *Ledger) forget(email string, e *entry, c *call) {
	if c == &e.first {
		if len(e.more) == 0 {
			delete(l.index, email)
			return
		}
		e.first = e.more[len(e.more)-1]
	} else {
		*c = e.more[len(e.more)-1]
	}
	e.more = e.more[:len(e.more)-1]
	if len(e.more) == 0 {
		e.more = nil
	}
}

// Stats are the records appended by this process and the fsyncs made for
// them.
func (l *Ledger) Stats() (records, syncs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.records, l.syncs
}

// Close waits for queued writes and closes the file. Idempotent.
func (l *Ledger) Close() error {
	var err error
	l.stopped.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.started.Do(func() { close(l.done) })
		select {
		case l.kick <- struct{}{}:
		default:
		}
		<-l.done
		err = l.f.Close()
		_ = l.lock.Close()
	})
	return err
}

// readChunk is how much catch-up reads at a time.
const readChunk = 1 << 20

// catchUp reads the complete lines after l.off. l.mu is held; the caller
// holds the file lock (shared or exclusive) so no batch is half-visible.
func (l *Ledger) catchUp() error {
	buf := make([]byte, 0, readChunk)
	for {
		n, err := l.f.ReadAt(buf[len(buf):cap(buf)], l.off+int64(len(buf)))
		buf = buf[:len(buf)+n]
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("ledger %s: read: %w", l.path, err)
		}
		last := bytes.LastIndexByte(buf, '\n')
		if last >= 0 {
			if perr := l.parse(buf[:last+1]); perr != nil {
				return perr
			}
			l.off += int64(last + 1)
			rest := copy(buf, buf[last+1:])
			buf = buf[:rest]
		}
		if errors.Is(err, io.EOF) || n == 0 {
			return nil
		}
		if len(buf) == cap(buf) { // a line longer than the buffer
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
	}
}

// dropTornTail truncates a last line without its newline: a write cut by a
// crash, never acknowledged. The file lock is held exclusively.
func (l *Ledger) dropTornTail() error {
	fi, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if fi.Size() > l.off {
		if err := l.f.Truncate(l.off); err != nil {
			return fmt.Errorf("ledger %s: drop torn line %d: %w", l.path, l.line+1, err)
		}
	}
	return nil
}

// ParseError is a malformed line.
type ParseError struct {
	Path string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("ledger %s line %d: %s (move the file aside to start a new ledger; invitectl then forgets earlier campaigns)", e.Path, e.Line, e.Msg)
}

// parse folds complete lines into the index.
func (l *Ledger) parse(b []byte) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b[:i]
		b = b[i+1:]
		l.line++
		if err := l.parseLine(line); err != nil {
			return &ParseError{Path: l.path, Line: l.line, Msg: err.Error()}
		}
	}
	return nil
}

func (l *Ledger) parseLine(line []byte) error {
	var f [8][]byte
	n := split(line, f[:])
	if l.line == 1 {
		if n != 3 || string(f[0]) != magic {
			return errors.New("not an invitectl ledger")
		}
		if v, err := strconv.Atoi(string(f[1])); err != nil || v != Version {
			return fmt.Errorf("ledger version %s, this invitectl reads version %d", f[1], Version)
		}
		if string(f[2]) != l.customer {
			return fmt.Errorf("ledger of customer %s, not %s", f[2], l.customer)
		}
		return nil
	}
	switch string(f[0]) {
	case "i", "o":
		want := 5
		if f[0][0] == 'o' {
			want = 6
		}
		if n != want {
			return fmt.Errorf("%d fields, want %d", n, want)
		}
		at, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			return fmt.Errorf("bad time %q", f[1])
		}
		src := l.sources[string(f[2])]
		if src == nil {
			return fmt.Errorf("unknown source %q", f[2])
		}
		if len(f[3]) != 1 || (f[3][0] != byte(Send) && f[3][0] != byte(Cancel)) {
			return fmt.Errorf("bad action %q", f[3])
		}
		c := call{at: at, src: src, action: Action(f[3][0]), effect: Pending}
		if n == 6 {
			if len(f[5]) != 1 || (f[5][0] != byte(Took) && f[5][0] != byte(None) && f[5][0] != byte(Unknown)) {
				return fmt.Errorf("bad effect %q", f[5])
			}
			c.effect = Effect(f[5][0])
		}
		switch {
		case l.own != "" && src.ID == l.own:
			return nil // not kept: no allocation
		case c.effect != Pending && l.index[string(f[4])] == nil:
			return nil // settles a call already forgotten: no allocation
		}
		l.apply(string(f[4]), c)
		return nil
	case "src":
		if n != 8 {
			return fmt.Errorf("%d fields, want 8", n)
		}
		at, err1 := strconv.ParseInt(string(f[2]), 10, 64)
		pid, err2 := strconv.Atoi(string(f[3]))
		plan, err3 := strconv.Unquote(string(f[6]))
		journal, err4 := strconv.Unquote(string(f[7]))
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return fmt.Errorf("bad source: %v", err)
		}
		s := &Source{ID: string(f[1]), At: time.UnixMilli(at).UTC(), PID: pid, Command: string(f[4]), PlanSHA: string(f[5]), Plan: plan, Journal: journal}
		if old := l.sources[s.ID]; old != nil {
			*old = *s // calls already point at it
			return nil
		}
		l.sources[s.ID] = s
		return nil
	}
	return fmt.Errorf("unknown record type %q", f[0])
}

// split cuts line at tabs into f and returns the number of fields, or
// len(f)+1 when there are more.
func split(line []byte, f [][]byte) int {
	n := 0
	for {
		i := bytes.IndexByte(line, '\t')
		if n == len(f) {
			return n + 1
		}
		if i < 0 {
			f[n] = line
			return n + 1
		}
		f[n] = line[:i]
		line = line[i+1:]
		n++
	}
}
