package planner

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/atomicfile"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/jsonl"
)

// FileWriter writes a plan whole or not at all: items go to a temporary
// body while they are decided; Commit writes the header, which is known
// only at the end, then the body, into a second temporary file that is
// renamed over the destination. Files are created 0600.
//
// The temporary files hold the whole address list, so none is left behind:
// Close removes them (on an error, an interrupt, a closed pipe), and those a
// killed process left (named for the plan and their process, see
// atomicfile.CreateTemp) are removed by the next CreateFile of that plan.
type FileWriter struct {
	path   string // the plan; for a dry run, the temporary plan once committed
	target string // where the temporary files go: the plan, or dryRunName
	dryRun bool
	// Unique: Commit never replaces a file; when path exists it takes
	// NAME-2.jsonl, NAME-3.jsonl... (a default, timestamped name).
	Unique bool
	body   *os.File
	buf    *bufio.Writer
	enc    *json.Encoder
	line   []byte // Emit's, reused
	done   bool
}

// dryRunName names a dry run's temporary plan, in the system's temporary
// folder.
const dryRunName = "invitectl-dry-run-plan.jsonl"

// CreateFile starts a plan for path. An empty path keeps the plan in a
// temporary file (a dry run), readable until Close.
func CreateFile(path string) (*FileWriter, error) {
	w := &FileWriter{path: path, target: path}
	if path == "" {
		w.dryRun, w.target = true, filepath.Join(os.TempDir(), dryRunName)
	}
	atomicfile.Sweep(w.target)
	body, err := atomicfile.CreateTemp(w.target)
	if err != nil {
		return nil, fmt.Errorf("create plan: %w", err)
	}
	w.body, w.buf = body, bufio.NewWriterSize(body, 1<<20)
	w.enc = json.NewEncoder(w.buf)
	w.enc.SetEscapeHTML(false)
	return w, nil
}

// Emit appends one item.
func (w *FileWriter) Emit(it Item) error {
	line, err := appendItem(w.line[:0], &it)
	if err != nil {
		err = w.enc.Encode(it) // says what is wrong as it always has
	} else {
		w.line = line
		_, err = w.buf.Write(line)
	}
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// Commit writes the header and the items to the destination and returns
// the path of the complete plan (a temporary one for a dry run).
func (w *FileWriter) Commit(h Header) (string, error) {
	if w.done {
		return "", errors.New("plan already committed")
	}
	if err := w.buf.Flush(); err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	final, err := atomicfile.CreateTemp(w.target)
	if err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = final.Close()
			_ = os.Remove(final.Name())
		}
	}()
	line, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("write plan header: %w", err)
	}
	if _, err := final.Write(append(line, '\n')); err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	if _, err := w.body.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	if _, err := io.Copy(final, w.body); err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	if err := final.Sync(); err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	if err := final.Close(); err != nil {
		return "", fmt.Errorf("write plan: %w", err)
	}
	dest := final.Name()
	if !w.dryRun {
		if dest, err = w.place(final.Name()); err != nil {
			return "", fmt.Errorf("write plan: %w", err)
		}
		if err := atomicfile.SyncDir(filepath.Dir(w.path)); err != nil {
			return "", fmt.Errorf("write plan: %w", err)
		}
	}
	ok = true
	w.done = true
	w.path = dest
	return dest, nil
}

// place moves the finished temporary file to the plan's path, or, when
// Unique, links it under the first free name (a link never replaces one),
// and returns the path.
func (w *FileWriter) place(tmp string) (string, error) {
	if !w.Unique {
		return w.path, os.Rename(tmp, w.path)
	}
	base := strings.TrimSuffix(w.path, ".jsonl")
	for n := 1; n < 1000; n++ {
		p := w.path
		if n > 1 {
			p = fmt.Sprintf("%s-%d.jsonl", base, n)
		}
		err := os.Link(tmp, p)
		if err == nil {
			return p, os.Remove(tmp)
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s and 998 more names exist", w.path)
}

// Close removes the temporary files, and a dry run's plan. It leaves a
// committed plan in place.
func (w *FileWriter) Close() error {
	_ = w.body.Close()
	err := os.Remove(w.body.Name())
	if w.done && w.dryRun {
		_ = os.Remove(w.path)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// FileReader streams a plan file.
type FileReader struct {
	path   string
	f      *os.File
	sc     *bufio.Scanner
	dec    *itemDecoder
	line   int
	Header Header
}

// PlanError is a plan file that apply must refuse: another kind or version,
// or corrupt content.
type PlanError struct {
	Path string
	Line int
	Msg  string
}

func (e *PlanError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("plan %s line %d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("plan %s: %s", e.Path, e.Msg)
}

// OpenFile opens a plan and reads its header, refusing a file that is not
// an invitectl plan of this version.
func OpenFile(path string) (*FileReader, error) {
	return openFile(path)
}

// openFile opens a plan and reads its header.
func openFile(path string) (*FileReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &PlanError{Path: path, Msg: err.Error()}
	}
	r := &FileReader{path: path, f: f, sc: bufio.NewScanner(f), dec: newItemDecoder()}
	r.sc.Buffer(make([]byte, 64<<10), maxLine)
	if !r.sc.Scan() {
		_ = f.Close()
		if err := r.sc.Err(); err != nil {
			return nil, &PlanError{Path: path, Msg: err.Error()}
		}
		return nil, &PlanError{Path: path, Msg: "empty file, not an invitectl plan"}
	}
	r.line = 1
	if r.Header, err = parseHeader(path, r.sc.Bytes()); err != nil {
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

// maxLine bounds a plan's line (the longest a row with 64 columns of 512
// bytes needs is far shorter).
const maxLine = 16 << 20

// parseHeader decodes a plan's first line, refusing a file that is not an
// invitectl plan of this version.
func parseHeader(path string, line []byte) (Header, error) {
	var probe struct {
		Kind    string `json:"kind"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(line, &probe); err != nil || probe.Kind != Kind {
		return Header{}, &PlanError{Path: path, Line: 1, Msg: "not an invitectl plan (the first line has no \"kind\": \"invitectl/plan\")"}
	}
	if probe.Version != Version {
		return Header{}, &PlanError{Path: path, Line: 1, Msg: fmt.Sprintf("plan version %d, this invitectl reads version %d: plan again with this version", probe.Version, Version)}
	}
	var h Header
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Header{}, &PlanError{Path: path, Line: 1, Msg: "corrupt header: " + err.Error()}
	}
	return h, nil
}

// Next returns the next item, or io.EOF after the last.
func (r *FileReader) Next() (Item, error) {
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var it Item
		if _, err := r.dec.decode(b, &it, nil); err != nil {
			return it, &PlanError{Path: r.path, Line: r.line, Msg: "corrupt item: " + err.Error()}
		}
		if err := it.validate(); err != nil {
			return it, &PlanError{Path: r.path, Line: r.line, Msg: err.Error()}
		}
		return it, nil
	}
	if err := r.sc.Err(); err != nil {
		return Item{}, &PlanError{Path: r.path, Line: r.line + 1, Msg: err.Error()}
	}
	return Item{}, io.EOF
}

// Each calls fn with every item left, in order; fn's error stops it and is
// returned, as is the first corrupt item's.
func (r *FileReader) Each(fn func(Item) error) error {
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(it); err != nil {
			return err
		}
	}
}

// Close closes the file.
func (r *FileReader) Close() error { return r.f.Close() }

func (it Item) validate() error {
	switch it.Action {
	case ActionSend, ActionCancel:
		if it.Email == "" {
			return fmt.Errorf("item with action %s has no email", it.Action)
		}
	case ActionNone:
	default:
		return fmt.Errorf("unknown action %q", it.Action)
	}
	if it.Reason == "" {
		return errors.New("item has no reason")
	}
	return nil
}

// Loaded is a whole plan, read once and verified, holding what apply needs
// of each item (its row, address, action, reason and observed invitation)
// in 48 bytes and its address, with no pointer for the garbage collector
// to scan: a plan of a million items takes about 70 MiB.
type Loaded struct {
	Header Header
	// Summary is recounted from the items, which an edited plan's header
	// may no longer match.
	Summary Summary
	// SHA256 is the hash of exactly the bytes the items were read from; the
	// results journal records it to recognise its plan.
	SHA256 string
	items  []loadedItem
	strs   jsonl.Strings
	// codes are the distinct reasons and states, which items refer to by
	// position: a plan has a handful of each.
	codes []string
}

// loadedItem is one item of a Loaded plan, in 48 bytes.
type loadedItem struct {
	// The observed invitation, when hasObs: its mails, update time (Unix
	// seconds and nanoseconds) and state.
	mails  int64
	sec    int64
	email  jsonl.Ref
	row    int32
	line   int32 // in the file
	nsec   int32
	reason uint16 // in Loaded.codes
	state  uint16 // in Loaded.codes
	action uint8  // an index in actions
	hasObs bool
}

var actions = [...]Action{ActionNone, ActionSend, ActionCancel}

// Len is the number of items.
func (p *Loaded) Len() int { return len(p.items) }

// Item returns item i (0 is the first) with what apply needs: Row, Email,
// Action, Reason and Observed (its UpdateTime in UTC).
func (p *Loaded) Item(i int) Item {
	e := &p.items[i]
	it := Item{Row: int(e.row), Email: p.strs.Get(e.email), Action: actions[e.action], Reason: p.codes[e.reason]}
	if o, ok := p.Observed(i); ok {
		it.Observed = &o
	}
	return it
}

// Observed returns item i's observed invitation, and false when it has
// none, without building the item (Item allocates it).
func (p *Loaded) Observed(i int) (Observed, bool) {
	e := &p.items[i]
	if !e.hasObs {
		return Observed{}, false
	}
	return Observed{State: invitations.State(p.codes[e.state]), MailsSentCount: e.mails,
		UpdateTime: time.Unix(e.sec, int64(e.nsec)).UTC()}, true
}

// Brief returns what identifies item i, without building it (Item
// allocates its observed invitation): its row, address and action.
func (p *Loaded) Brief(i int) (row int, email string, action Action) {
	e := &p.items[i]
	return int(e.row), p.strs.Get(e.email), actions[e.action]
}

// Each calls fn with every item in order (see Item); fn's error stops it and
// is returned.
func (p *Loaded) Each(fn func(Item) error) error {
	for i := range p.items {
		if err := fn(p.Item(i)); err != nil {
			return err
		}
	}
	return nil
}

// Load reads a whole plan before it is applied, in one pass: every item must
// parse, every acting item's address must already be in address.Key form,
// and no address may have two send or cancel items (apply keys its journal
// by address). The bytes hashed are the bytes parsed, so what is applied is
// what the hash names. The lines are decoded on every core.
func Load(path string) (*Loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &PlanError{Path: path, Msg: err.Error()}
	}
	defer f.Close()
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, h), 64<<10)
	first, err := firstLine(br, path)
	if err != nil {
		return nil, err
	}
	hdr, err := parseHeader(path, first)
	if err != nil {
		return nil, err
	}
	l := newLoader(path, hdr)
	tail, err := jsonl.Decode(br, 2, maxLine, l.decoder, l.fold)
	var long *jsonl.LineTooLongError
	switch {
	case errors.As(err, &long):
		return nil, &PlanError{Path: path, Line: long.Line, Msg: bufio.ErrTooLong.Error()}
	case errors.As(err, new(*PlanError)):
		return nil, err
	case err != nil:
		return nil, &PlanError{Path: path, Line: l.line + 1, Msg: err.Error()}
	case len(tail) > 0: // a last line without a newline
		var v planLine
		err := l.decoder()(tail, &v)
		if err := l.fold(l.line+1, tail, &v, err); err != nil {
			return nil, err
		}
	}
	l.count()
	l.p.SHA256 = hex.EncodeToString(h.Sum(nil))
	return l.p, nil
}

// Peek reads a plan's header and hashes the whole file, without decoding
// its items: what takes the run lock of a plan before Load, which is slower,
// reads it. Load's SHA256 tells whether the file changed in between.
func Peek(path string) (Header, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, "", &PlanError{Path: path, Msg: err.Error()}
	}
	defer f.Close()
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, h), 64<<10)
	first, err := firstLine(br, path)
	if err != nil {
		return Header{}, "", err
	}
	hdr, err := parseHeader(path, first)
	if err != nil {
		return Header{}, "", err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return Header{}, "", &PlanError{Path: path, Msg: err.Error()}
	}
	return hdr, hex.EncodeToString(h.Sum(nil)), nil
}

// firstLine reads a plan's first line as bufio.Scanner would (openFile).
func firstLine(br *bufio.Reader, path string) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		switch {
		case len(line) > maxLine:
			return nil, &PlanError{Path: path, Msg: bufio.ErrTooLong.Error()}
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) == 0:
			return nil, &PlanError{Path: path, Msg: "empty file, not an invitectl plan"}
		case err != nil && !errors.Is(err, io.EOF):
			return nil, &PlanError{Path: path, Msg: err.Error()}
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		return bytes.TrimSuffix(line, []byte{'\r'}), nil
	}
}

// planLine is one plan line as Load's goroutines decode it.
type planLine struct {
	it       Item
	observed Observed
	hasObs   bool
	blank    bool
	isKey    bool // an acting item's address is in address.Key form
}

// loader is the state of one Load: the items so far, in order.
type loader struct {
	path string
	p    *Loaded
	line int // the last line folded
	// acting maps the address of each send or cancel item to the item.
	acting *jsonl.Index
	// pairs counts the items by action and reason, for the summary.
	pairs map[pair]int
	// codeOf finds a reason's or a state's position in p.codes.
	codeOf map[string]uint16
}

type pair struct {
	action uint8  // in actions
	reason uint16 // in codes
}

func newLoader(path string, h Header) *loader {
	l := &loader{path: path, p: &Loaded{Header: h}, line: 1, pairs: map[pair]int{}, codeOf: map[string]uint16{}}
	// The header's counts size the items and the index up front (an edited
	// plan's may be off; append copes): growing a million items step by
	// step copies gigabytes.
	n, acting := 0, 0
	if s := h.Summary; s.Send+s.Cancel+s.None > 0 && s.Send+s.Cancel+s.None < 1<<26 {
		n, acting = s.Send+s.Cancel+s.None, s.Send+s.Cancel
	}
	l.acting = jsonl.NewIndex(acting)
	l.p.items = make([]loadedItem, 0, n)
	return l
}

// decoder makes a decoder for one of Load's goroutines.
func (l *loader) decoder() func([]byte, *planLine) error {
	d := newItemDecoder()
	return func(line []byte, v *planLine) (err error) {
		line = bytes.TrimSuffix(line, []byte{'\r'}) // as bufio.ScanLines
		if v.blank = len(bytes.TrimSpace(line)) == 0; v.blank {
			return nil
		}
		v.hasObs, err = d.decode(line, &v.it, &v.observed)
		v.isKey = err == nil && v.it.Action != ActionNone && address.IsKey(v.it.Email)
		return err
	}
}

// fold checks line n and appends its item.
func (l *loader) fold(n int, _ []byte, v *planLine, err error) error {
	l.line = n
	switch {
	case v.blank:
		return nil
	case err != nil:
		return &PlanError{Path: l.path, Line: n, Msg: "corrupt item: " + err.Error()}
	}
	it := &v.it
	if err := it.validate(); err != nil {
		return &PlanError{Path: l.path, Line: n, Msg: err.Error()}
	}
	p := l.p
	if it.Row < 0 || it.Row > math.MaxInt32 {
		return &PlanError{Path: l.path, Line: n, Msg: fmt.Sprintf("row %d is out of range", it.Row)}
	}
	reason, err := l.code(it.Reason)
	if err != nil {
		return &PlanError{Path: l.path, Line: n, Msg: err.Error()}
	}
	e := loadedItem{email: p.strs.Add(it.Email), reason: reason, row: int32(it.Row), line: int32(n), hasObs: v.hasObs}
	if it.Action != ActionNone {
		if !v.isKey {
			return &PlanError{Path: l.path, Line: n, Msg: fmt.Sprintf("%s item for %q: the address is not in its normal form (trimmed, lower-case, valid); plan again", it.Action, it.Email)}
		}
		first, dup := l.acting.Add(it.Email, int32(len(p.items)), func(i int32) bool { return p.strs.Get(p.items[i].email) == it.Email })
		if dup {
			return &PlanError{Path: l.path, Line: n, Msg: fmt.Sprintf("%s has a second %s item (the first is on line %d)", it.Email, it.Action, p.items[first].line)}
		}
	}
	for i, a := range actions {
		if a == it.Action {
			e.action = uint8(i)
		}
	}
	l.pairs[pair{e.action, e.reason}]++
	if o := &v.observed; v.hasObs {
		if e.state, err = l.code(string(o.State)); err != nil {
			return &PlanError{Path: l.path, Line: n, Msg: err.Error()}
		}
		e.mails, e.sec, e.nsec = o.MailsSentCount, o.UpdateTime.Unix(), int32(o.UpdateTime.Nanosecond())
	}
	p.items = append(p.items, e)
	return nil
}

// code returns v's position in the plan's codes, adding it when new.
func (l *loader) code(v string) (uint16, error) {
	if c, ok := l.codeOf[v]; ok {
		return c, nil
	}
	if len(l.p.codes) > math.MaxUint16 {
		return 0, fmt.Errorf("more than %d distinct reasons and states: not a plan invitectl wrote", math.MaxUint16)
	}
	c := uint16(len(l.p.codes))
	l.p.codes = append(l.p.codes, v)
	l.codeOf[v] = c
	return c, nil
}

// count fills the summary from the counts by action and reason.
func (l *loader) count() {
	for p, n := range l.pairs {
		l.p.Summary.addN(Item{Action: actions[p.action], Reason: l.p.codes[p.reason]}, n)
	}
}
