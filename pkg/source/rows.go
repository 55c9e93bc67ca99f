package source

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/safetext"

	"github.com/invitectl/invitectl/pkg/words"
)

// records is a stream of input records: a file read by encoding/csv or the
// values of a sheet. The header is read from it; a sheet's rows too.
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

// The row types below are the shapes of input that invitectl reads, one
// per format, decoded by gocsv from the columns the header revealed (see
// layout.tags). Rest gathers the other columns: to tell a blank record from
// a row whose address cell alone is empty, and to carry them (a name, a
// team) through the plan into the results.

// plainRow is a row of a CSV or TSV campaign, or of a list without a
// header: an address and, optionally, what the row asks for.
type plainRow struct {
	Email  string    `csv:"Email"`
	Action string    `csv:"Action"` // invite or cancel, any case; empty: the caller's default
	Rest   restCells `csv:"Rest"`
}

// consoleRow is a row of the Admin console's unmanaged-users export.
type consoleRow struct {
	Email  string    `csv:"Email"`  // "User email"
	Send   string    `csv:"Send"`   // "(Re) Send transfer requests": Yes or No
	Cancel string    `csv:"Cancel"` // "Cancel transfer requests": Yes or No
	Rest   restCells `csv:"Rest"`
}

// gamRow is a row of GAM's print userinvitations: name holds the address,
// or the resource name customers/…/userinvitations/ADDRESS.
type gamRow struct {
	Name string    `csv:"Name"`
	Rest restCells `csv:"Rest"`
}

// shape is what the builder asks of a decoded row.
type shape interface {
	blank() bool
	addressCell() string
	action(l *layout) (Action, string) // what the row asks for, or its problem
	rest() []string                    // the other columns' cells, in column order
}

// restCells gathers the cells of the columns that are not read for the
// address or the action, in column order (gocsv decodes every such column
// into the one field), and whether any has text. A short row has fewer.
type restCells struct {
	cells  []string
	filled bool
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (f *restCells) UnmarshalCSV(s string) error {
	f.cells = append(f.cells, s)
	if !f.filled && strings.TrimSpace(s) != "" {
		f.filled = true
	}
	return nil
}

func blankCell(s string) bool { return strings.TrimSpace(s) == "" }

func (r *plainRow) blank() bool         { return !r.Rest.filled && blankCell(r.Email) && blankCell(r.Action) }
func (r *plainRow) addressCell() string { return r.Email }
func (r *plainRow) rest() []string      { return r.Rest.cells }
func (r *plainRow) action(*layout) (Action, string) {
	switch v := strings.TrimSpace(r.Action); {
	case v == "":
		return ActionDefault, ""
	case strings.EqualFold(v, "invite"):
		return ActionInvite, ""
	case strings.EqualFold(v, "cancel"):
		return ActionCancel, ""
	default:
		return ActionDefault, fmt.Sprintf("action %s is neither invite nor cancel", quoteCell(v))
	}
}

func (r *consoleRow) blank() bool {
	return !r.Rest.filled && blankCell(r.Email) && blankCell(r.Send) && blankCell(r.Cancel)
}
func (r *consoleRow) addressCell() string { return r.Email }
func (r *consoleRow) rest() []string      { return r.Rest.cells }

// action reads the Admin console export's two Yes/No columns.
func (r *consoleRow) action(l *layout) (Action, string) {
	send, ok := yesNo(r.Send)
	if !ok {
		return ActionDefault, fmt.Sprintf("%q is %s, want Yes or No", l.sendName, quoteCell(strings.TrimSpace(r.Send)))
	}
	cancel, ok := yesNo(r.Cancel)
	if !ok {
		return ActionDefault, fmt.Sprintf("%q is %s, want Yes or No", l.cancelName, quoteCell(strings.TrimSpace(r.Cancel)))
	}
	switch {
	case send && cancel:
		return ActionDefault, fmt.Sprintf("both %q and %q are Yes; keep one", l.sendName, l.cancelName)
	case send:
		return ActionInvite, ""
	case cancel:
		return ActionCancel, ""
	}
	return ActionNone, ""
}

func (r *gamRow) blank() bool                     { return !r.Rest.filled && blankCell(r.Name) }
func (r *gamRow) addressCell() string             { return r.Name }
func (r *gamRow) rest() []string                  { return r.Rest.cells }
func (r *gamRow) action(*layout) (Action, string) { return ActionDefault, "" }

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

// Bounds of the text a Target keeps of a cell that is not an address.
const (
	maxKeptEmail = 256
	maxQuoted    = 64
)

// notCampaignAfter is how many rows are read before judging whether most of
// them have an address.
const notCampaignAfter = 1000

// builder turns decoded rows into targets, remembers which row first
// claimed each address, and refuses an input that is not a campaign.
type builder struct {
	lay          layout
	name         string
	seen         seenSet
	rows         int // targets yielded
	invalid      int // of which with an address cell that is not empty and not an address
	firstInvalid int // line of the first of those
}

func newBuilder(lay layout, name string) *builder {
	return &builder{lay: lay, name: name, seen: newSeenSet()}
}

// emit gives the target of a non-blank row to fn.
func (b *builder) emit(s shape, line int, fn func(Target) error) error {
	if s.blank() {
		return nil
	}
	if b.rows == MaxRows {
		return &InputError{Path: b.name, Line: line,
			Problem: fmt.Sprintf("more than %d rows: not a campaign invitectl can run; split it", MaxRows)}
	}
	t, bad := b.target(s, line)
	if err := b.judge(bad, line); err != nil {
		return err
	}
	b.rows++
	return fn(t)
}

// judge counts the rows whose address cell holds something other than an
// address (bad), and refuses the input when there are too many of them to
// be a campaign with a few mistakes.
func (b *builder) judge(bad bool, line int) error {
	if bad {
		b.invalid++
		if b.invalid == 1 {
			b.firstInvalid = line
		}
	}
	switch {
	case b.invalid > MaxInvalidRows:
		return &InputError{Path: b.name, Line: line, Problem: fmt.Sprintf(
			"more than %d rows have no valid address in %s (the first on line %d): not a campaign file",
			MaxInvalidRows, b.columnName(), b.firstInvalid)}
	case b.rows+1 == notCampaignAfter && 2*b.invalid > notCampaignAfter:
		return &InputError{Path: b.name, Line: line, Problem: fmt.Sprintf(
			"%d of the first %d rows have no valid address in %s: not a campaign file (use --email-column to name the address column)",
			b.invalid, notCampaignAfter, b.columnName())}
	}
	return nil
}

func (b *builder) columnName() string {
	if b.lay.format == FormatNoHeader {
		return fmt.Sprintf("column %d (the file has no header line)", b.lay.email+1)
	}
	return fmt.Sprintf("column %q", b.lay.emailName)
}

// target is the Target of a row; bad says that its address cell holds
// text that is not an address.
func (b *builder) target(s shape, line int) (t Target, bad bool) {
	t.Row = line
	t.Columns = b.lay.columns(s.rest())
	raw := s.addressCell()
	if len(raw) > maxCellBytes {
		t.Email = shorten(address.Trim(raw), maxKeptEmail)
		t.Reason = ReasonInvalidEmail
		t.Detail = fmt.Sprintf("a cell of %d bytes, not an address (an address has at most 254)", len(raw))
		return t, true
	}
	cell := address.Trim(raw)
	var notes []string
	if u, ok := safetext.Unformula(cell); ok {
		cell = u
		notes = append(notes, "removed the leading ' that kept a spreadsheet from reading it as a formula")
	}
	if b.lay.format == FormatGAM && strings.Contains(cell, "/") {
		_, addr, ok := SplitName(cell)
		if !ok {
			t.Email = shorten(cell, maxKeptEmail)
			t.Reason = ReasonInvalidRow
			t.Detail = fmt.Sprintf("name %s is neither an address nor customers/…/userinvitations/ADDRESS", quoteCell(cell))
			return t, true
		}
		cell = addr
	}
	clean, note := address.Clean(cell)
	if note != "" {
		notes = append(notes, note)
	}
	key, err := address.Key(clean)
	action, problem := s.action(&b.lay)
	t.Action = action
	// The console's column is "(Re) Send": its Yes asks for an email even
	// to someone invited already.
	t.Resend = action == ActionInvite && b.lay.format == FormatAdminConsole
	switch {
	case err != nil:
		t.Email = shorten(clean, maxKeptEmail)
		t.Reason, t.Detail = ReasonInvalidEmail, withNotes(err.Error(), notes)
		return t, cell != ""
	case problem != "":
		t.Action, t.Reason, t.Detail = ActionDefault, ReasonInvalidRow, withNotes(problem, notes)
	case action == ActionNone:
		t.Reason, t.Detail = ReasonNoAction, withNotes("", notes)
	default:
		t.Detail = withNotes("", notes)
	}
	// A compact copy: the cell shares its memory with the whole record,
	// which callers keeping targets would otherwise retain.
	t.Email = strings.Clone(key)
	if more := append(othersInCell(cell, key), b.moreAddresses(s)...); t.Reason == "" && len(more) > 0 {
		// A line pasted from a mail client's To: field, or "a, b" on one
		// line of a list: read as one row, the others would be lost.
		others := words.Count(len(more), "more address", "more addresses")
		t.Reason, t.Detail = ReasonInvalidRow, withNotes(fmt.Sprintf(
			"this line holds %s (%s): put one address per line, or they are not invited", others, strings.Join(more, ", ")), notes)
	}
	if t.Reason == "" {
		if first, ok := b.seen.claim(t.Email, t.Row); !ok {
			t.Reason, t.FirstRow = ReasonDuplicate, first
		}
	}
	return t, false
}

func withNotes(detail string, notes []string) string {
	if len(notes) == 0 {
		return detail
	}
	n := strings.Join(notes, "; ")
	if detail == "" {
		return n
	}
	return detail + "; " + n
}

// shorten cuts s to at most n bytes on a character boundary, marking the
// cut with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// quoteCell quotes a cell for a row's detail, cut short.
func quoteCell(s string) string { return fmt.Sprintf("%q", shorten(s, maxQuoted)) }

// runRecords is the pipeline of a record stream that is not a CSV file (a
// sheet's values): header, then one Target per non-blank record to fn. It
// returns the number of targets yielded and the names of the other columns.
func runRecords(in records, name string, opts Options, fn func(Target) error) (int, []string, error) {
	lay, pending, err := readHeader(in, name, opts)
	if err != nil {
		return 0, nil, err
	}
	b := newBuilder(lay, name)
	for _, p := range pending {
		if err := b.emit(lay.project(p.cells), p.line, fn); err != nil {
			return b.rows, lay.restNames, err
		}
	}
	for {
		cells, line, err := in.next()
		if err == io.EOF {
			return b.rows, lay.restNames, nil
		}
		if err != nil {
			return b.rows, lay.restNames, err
		}
		if err := b.emit(lay.project(cells), line, fn); err != nil {
			return b.rows, lay.restNames, err
		}
	}
}

// moreAddresses lists the other cells of a line of a list without a header
// that hold an address too. (With a header, other columns may hold
// addresses on purpose: a manager's, a personal one.)
func (b *builder) moreAddresses(s shape) []string {
	if b.lay.format != FormatNoHeader {
		return nil
	}
	var more []string
	for _, c := range s.rest() {
		clean, _ := address.Clean(c)
		if k, err := address.Key(clean); err == nil {
			more = append(more, k)
		}
	}
	return more
}

// Address takes the address out of one cell, or one command-line argument,
// as the readers take it out of a row's address cell: what address.Clean
// removes (a display name, angle brackets, mailto:, trailing ; or , and
// invisible characters), then address.Key. Text that holds more than one
// address ("A <a@x>, B <b@y>") is refused, naming the others, rather than
// read as the one Clean would keep.
func Address(cell string) (string, error) {
	if all := othersInCell(address.Trim(cell), ""); len(all) > 1 {
		return "", fmt.Errorf("%s holds %d addresses (%s): give one at a time", quoteCell(address.Trim(cell)), len(all), strings.Join(all, ", "))
	}
	clean, _ := address.Clean(cell)
	return address.Key(clean)
}

// othersInCell lists the addresses of a cell besides key, the one taken
// from it: "a@x, b@y" or "A <a@x>; B <b@y>" in one cell.
func othersInCell(cell, key string) []string {
	if strings.Count(cell, "@") < 2 {
		return nil
	}
	var more []string
	for _, part := range strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		clean, _ := address.Clean(part)
		if k, err := address.Key(clean); err == nil && k != key {
			more = append(more, k)
		}
	}
	return more
}
