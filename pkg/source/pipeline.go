package source

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gocarina/gocsv"

	"github.com/invitectl/invitectl/pkg/address"
)

// records is a stream of input records: a file read by encoding/csv or the
// values of a sheet. Both feed the same header and row pipeline.
type records interface {
	// next returns the next record and the line (or sheet row) it starts
	// on, and io.EOF after the last. The slice may be reused by the next
	// call; the strings may not be changed.
	next() (cells []string, line int, err error)
}

// nextNonBlank skips records whose cells are all empty or white space: blank
// lines, and the ",,," rows spreadsheets write for empty rows.
func nextNonBlank(in records) ([]string, int, error) {
	for {
		cells, line, err := in.next()
		if err != nil || !isBlank(cells) {
			return cells, line, err
		}
	}
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// row is one data record as gocsv decodes it. The decoder renames the
// columns that matter to these canonical headers and drops the others. We
// never touch gocsv's global settings; in case other code in the process
// does, field names equal their tags (so matching survives a new TagName) and
// the header always carries every field (FailIfUnmatchedStructTags).
type row struct {
	Line   string `csv:"Line"`
	Email  string `csv:"Email"`
	Action string `csv:"Action"`
	Send   string `csv:"Send"`
	Cancel string `csv:"Cancel"`
}

func canonicalHeader() []string { return []string{"Line", "Email", "Action", "Send", "Cancel"} }

// rowBuffer is how far gocsv may read ahead of the caller's function.
const rowBuffer = 256

// errStopped ends gocsv's reading after the caller's function failed.
var errStopped = errors.New("stopped by the caller")

// decoder is the gocsv.SimpleDecoder over a record stream. It runs in the
// decoding goroutine, ahead of the caller's function, so the line number
// travels inside the record rather than in shared state. gocsv would cope
// with ragged records itself (it binds only the cells a record has), but
// projecting onto the canonical columns here keeps its reflective work to
// five cells per row however wide the file is.
type decoder struct {
	in      records
	lay     layout
	pending *record // first data record, already read by readHeader
	started bool
	out     []string // reused: gocsv copies the cells out before asking for more
	stop    atomic.Bool
}

var _ gocsv.SimpleDecoder = (*decoder)(nil)

func newDecoder(in records, lay layout, pending *record) *decoder {
	return &decoder{in: in, lay: lay, pending: pending, out: make([]string, len(canonicalHeader()))}
}

// GetCSVRow returns the canonical header first, then one projected record
// per non-blank input record; cells missing from short records are empty.
func (d *decoder) GetCSVRow() ([]string, error) {
	if !d.started {
		d.started = true
		return canonicalHeader(), nil
	}
	if d.stop.Load() {
		return nil, errStopped
	}
	var cells []string
	var line int
	if d.pending != nil {
		cells, line, d.pending = d.pending.cells, d.pending.line, nil
	} else {
		var err error
		if cells, line, err = nextNonBlank(d.in); err != nil {
			return nil, err
		}
	}
	d.out[0] = strconv.Itoa(line)
	d.out[1] = cellAt(cells, d.lay.email)
	d.out[2] = cellAt(cells, d.lay.action)
	d.out[3] = cellAt(cells, d.lay.send)
	d.out[4] = cellAt(cells, d.lay.cancel)
	return d.out, nil
}

// GetCSVRows completes gocsv.SimpleDecoder; the pipeline never calls it, as
// it would hold the whole input.
func (d *decoder) GetCSVRows() ([][]string, error) {
	var all [][]string
	for {
		r, err := d.GetCSVRow()
		if err != nil {
			if err == io.EOF {
				return all, nil
			}
			return all, err
		}
		all = append(all, append([]string(nil), r...))
	}
}

// run is the pipeline shared by files and sheets: header, then one Target
// per non-blank record to fn. It returns the number of targets yielded and
// the format the header revealed ("" for plain CSV/TSV).
func run(in records, name string, opts Options, fn func(Target) error) (int, string, error) {
	lay, pending, err := readHeader(in, name, opts)
	if err != nil {
		return 0, "", err
	}
	dec := newDecoder(in, lay, pending)
	b := newBuilder(lay)

	// gocsv decodes in its own goroutine into a buffered channel, so the two
	// sides hand over rows in batches rather than one by one.
	rowsc := make(chan row, rowBuffer)
	done := make(chan error, 1)
	go func() { done <- gocsv.UnmarshalDecoderToChan(dec, rowsc) }()

	rows := 0
	var fnErr error
	for r := range rowsc { // gocsv closes rowsc when it returns
		if fnErr != nil {
			continue // drain what was read ahead, so that gocsv can finish
		}
		rows++
		if fnErr = fn(b.target(r)); fnErr != nil {
			dec.stop.Store(true)
		}
	}
	err = <-done
	switch {
	case fnErr != nil:
		return rows, lay.format, fnErr
	case err == nil:
		return rows, lay.format, nil
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return rows, lay.format, err
	}
	return rows, lay.format, fmt.Errorf("read %s: %w", name, err)
}

// builder turns decoded rows into targets and remembers which row first
// claimed each address.
type builder struct {
	lay  layout
	seen seenSet
}

func newBuilder(lay layout) *builder { return &builder{lay: lay, seen: newSeenSet()} }

func (b *builder) target(r row) Target {
	line, _ := strconv.Atoi(r.Line) // written by the decoder
	t := Target{Row: line}
	raw := r.Email
	if b.lay.format == FormatGAM && strings.TrimSpace(raw) != "" {
		addr, ok := gamAddress(raw)
		if !ok {
			t.Email = strings.Clone(address.Trim(raw))
			t.Reason, t.Detail = ReasonInvalidRow, fmt.Sprintf("name %q is not customers/…/userinvitations/ADDRESS", raw)
			return t
		}
		raw = addr
	}
	// A compact copy: the cell shares its memory with the whole line, which
	// callers keeping targets would otherwise retain.
	key, err := address.Key(raw)
	if err != nil {
		key = address.Trim(raw)
	}
	t.Email = strings.Clone(key)
	action, problem := b.action(r)
	t.Action = action
	switch {
	case err != nil:
		t.Reason, t.Detail = ReasonInvalidEmail, err.Error()
	case problem != "":
		t.Action, t.Reason, t.Detail = ActionDefault, ReasonInvalidRow, problem
	case action == ActionNone:
		t.Reason = ReasonNoAction
	default:
		if first, ok := b.seen.claim(t.Email, t.Row); !ok {
			t.Reason, t.FirstRow = ReasonDuplicate, first
		}
	}
	return t
}

// action is what the row asks for, or a problem with what it says.
func (b *builder) action(r row) (Action, string) {
	if b.lay.format == FormatAdminConsole {
		return b.transferAction(r)
	}
	switch v := strings.TrimSpace(r.Action); {
	case v == "":
		return ActionDefault, ""
	case strings.EqualFold(v, "invite"):
		return ActionInvite, ""
	case strings.EqualFold(v, "cancel"):
		return ActionCancel, ""
	default:
		return ActionDefault, fmt.Sprintf("action %q is neither invite nor cancel", v)
	}
}

// transferAction reads the Admin console export's two Yes/No columns.
func (b *builder) transferAction(r row) (Action, string) {
	send, ok := yesNo(r.Send)
	if !ok {
		return ActionDefault, fmt.Sprintf("%q is %q, want Yes or No", b.lay.sendName, strings.TrimSpace(r.Send))
	}
	cancel, ok := yesNo(r.Cancel)
	if !ok {
		return ActionDefault, fmt.Sprintf("%q is %q, want Yes or No", b.lay.cancelName, strings.TrimSpace(r.Cancel))
	}
	switch {
	case send && cancel:
		return ActionDefault, fmt.Sprintf("both %q and %q are Yes; keep one", b.lay.sendName, b.lay.cancelName)
	case send:
		return ActionInvite, ""
	case cancel:
		return ActionCancel, ""
	}
	return ActionNone, ""
}

// yesNo reads a Yes/No cell; an empty cell is No.
func yesNo(s string) (yes, ok bool) {
	switch s = strings.TrimSpace(s); {
	case strings.EqualFold(s, "yes"):
		return true, true
	case s == "", strings.EqualFold(s, "no"):
		return false, true
	}
	return false, false
}

// gamAddress takes the address out of customers/C…/userinvitations/ADDRESS,
// unescaping it if the name was percent-encoded.
func gamAddress(name string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(name), gamPrefix)
	if !ok {
		return "", false
	}
	customer, addr, ok := strings.Cut(rest, gamInfix)
	if !ok || customer == "" || strings.Contains(customer, "/") || addr == "" {
		return "", false
	}
	if strings.Contains(addr, "%") {
		if u, err := url.PathUnescape(addr); err == nil {
			addr = u
		}
	}
	return addr, true
}
