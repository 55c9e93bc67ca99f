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
	"os"
	"path/filepath"
	"strings"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/atomicfile"
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
	if err := w.enc.Encode(it); err != nil {
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
	return openFile(path, nil)
}

// openFile opens a plan; every byte read also goes to h when it is set.
func openFile(path string, h io.Writer) (*FileReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &PlanError{Path: path, Msg: err.Error()}
	}
	var in io.Reader = f
	if h != nil {
		in = io.TeeReader(f, h)
	}
	r := &FileReader{path: path, f: f, sc: bufio.NewScanner(in)}
	r.sc.Buffer(make([]byte, 64<<10), 16<<20)
	if !r.sc.Scan() {
		_ = f.Close()
		if err := r.sc.Err(); err != nil {
			return nil, &PlanError{Path: path, Msg: err.Error()}
		}
		return nil, &PlanError{Path: path, Msg: "empty file, not an invitectl plan"}
	}
	r.line = 1
	var probe struct {
		Kind    string `json:"kind"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(r.sc.Bytes(), &probe); err != nil || probe.Kind != Kind {
		_ = f.Close()
		return nil, &PlanError{Path: path, Line: 1, Msg: "not an invitectl plan (the first line has no \"kind\": \"invitectl/plan\")"}
	}
	if probe.Version != Version {
		_ = f.Close()
		return nil, &PlanError{Path: path, Line: 1, Msg: fmt.Sprintf("plan version %d, this invitectl reads version %d: plan again with this version", probe.Version, Version)}
	}
	dec := json.NewDecoder(bytes.NewReader(r.sc.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.Header); err != nil {
		_ = f.Close()
		return nil, &PlanError{Path: path, Line: 1, Msg: "corrupt header: " + err.Error()}
	}
	return r, nil
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
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
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

// Line is the line of the item Next returned last.
func (r *FileReader) Line() int { return r.line }

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

// Loaded is a whole plan, read once and verified.
type Loaded struct {
	Header Header
	// Summary is recounted from the items, which an edited plan's header
	// may no longer match.
	Summary Summary
	Items   []Item
	// SHA256 is the hash of exactly the bytes the items were read from; the
	// results journal records it to recognise its plan.
	SHA256 string
}

// Load reads a whole plan before it is applied, in one pass: every item must
// parse, every acting item's address must already be in address.Key form,
// and no address may have two send or cancel items (apply keys its journal
// by address). The bytes hashed are the bytes parsed, so what is applied is
// what the hash names.
func Load(path string) (*Loaded, error) {
	h := sha256.New()
	r, err := openFile(path, h)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	p := &Loaded{Header: r.Header}
	// The header's counts size the slice up front (an edited plan's may be
	// off; append copes): growing a million items step by step copies
	// gigabytes.
	if n := r.Header.Summary.Send + r.Header.Summary.Cancel + r.Header.Summary.None; n > 0 && n < 1<<26 {
		p.Items = make([]Item, 0, n)
	}
	acting := map[string]int{}
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			p.SHA256 = hex.EncodeToString(h.Sum(nil))
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		if it.Action != ActionNone {
			if !address.IsKey(it.Email) {
				return nil, &PlanError{Path: path, Line: r.Line(), Msg: fmt.Sprintf("%s item for %q: the address is not in its normal form (trimmed, lower-case, valid); plan again", it.Action, it.Email)}
			}
			if first, dup := acting[it.Email]; dup {
				return nil, &PlanError{Path: path, Line: r.Line(), Msg: fmt.Sprintf("%s has a second %s item (the first is on line %d)", it.Email, it.Action, first)}
			}
			acting[it.Email] = r.Line()
		}
		p.Summary.Add(it)
		// Applying never reads the other columns, and a million items'
		// worth of them is memory to spare: the results read them from the
		// plan file as they stream it.
		it.Columns = nil
		p.Items = append(p.Items, it)
	}
}
