package source

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/safetext"
)

// emailKeys are the canonical forms of the address column names, in order of
// preference; emailNames is how errors list them.
var emailKeys = [...]string{"email", "emailaddress", "useremail", "primaryemail", "invitableusers"}

const emailNames = "email, e-mail, email address, user email, primary email, primaryEmail, invitableUsers"

const (
	gamPrefix = "customers/"
	gamInfix  = "/userinvitations/"
)

// layout is what the header says about the input: where the columns that
// matter are (-1 when absent), how wide it is, and which format it is.
type layout struct {
	email, action, send, cancel int
	width                       int
	sendName, cancelName        string // header cells, for row details
	emailName                   string // header cell of the address column
	format                      string // "" (plain), FormatNoHeader, FormatAdminConsole or FormatGAM
	header                      []string
	// restNames names the other columns, in column order: what
	// Target.Columns carries.
	restNames []string
	// extra columns past width are read too (a list without a header, whose
	// lines may hold more cells than its first), only to find addresses
	// that would otherwise be lost; they are not carried.
	extra int
}

// record is one record of the stream with the line (or sheet row) it starts on.
type record struct {
	cells []string
	line  int
}

// readHeader reads the header record and returns the layout it reveals and
// the data records it had to read to decide (the first record of a list
// without a header, the first data record of a possible GAM file), which
// the caller must not lose. Every error here comes before any target.
func readHeader(in records, name string, opts Options) (layout, []record, error) {
	lay, pending, err := detectLayout(in, name, opts)
	if err == nil {
		lay.nameRest()
	}
	return lay, pending, err
}

// detectLayout is readHeader before the other columns are named.
func detectLayout(in records, name string, opts Options) (layout, []record, error) {
	cells, line, err := nextNonBlank(in)
	if err == io.EOF {
		return layout{}, nil, &InputError{Path: name, Problem: "no header line: the input is blank"}
	}
	if err != nil {
		return layout{}, nil, err
	}
	header := slices.Clone(cells) // the stream may reuse cells
	keys := make([]string, len(header))
	for i, h := range header {
		keys[i] = canonical(h)
	}
	lay := headerLayout(header, keys, opts)
	switch {
	case opts.EmailColumn != "" && lay.email < 0:
		return lay, nil, &InputError{Path: name, Line: line,
			Problem: fmt.Sprintf("no column %q in the header (%s)", opts.EmailColumn, listCells(header))}
	case lay.email >= 0 && keys[lay.email] == "name":
		return nameColumn(in, keys, lay) // named by --email-column
	case lay.email >= 0:
		return lay, nil, nil
	case lay.format == FormatAdminConsole:
		return lay, nil, noAddressColumn(name, header)
	}
	if col := addressCell(header); col >= 0 {
		lay.email, lay.action, lay.format, lay.emailName, lay.extra = col, -1, FormatNoHeader, "", noHeaderExtra
		return lay, []record{{cells: header, line: line}}, nil
	}
	return detectGAM(in, name, header, keys, lay)
}

// headerLayout finds the columns that matter; email is -1 when no column
// has an address column name (or Options.EmailColumn).
func headerLayout(header, keys []string, opts Options) layout {
	lay := layout{email: -1, action: -1, send: -1, cancel: -1, width: len(header), header: header}
	if opts.EmailColumn != "" {
		lay.email = indexOf(keys, canonical(opts.EmailColumn))
	} else {
		lay.email = findEmailColumn(keys)
	}
	lay.emailName = cellAt(header, lay.email)
	lay.send = indexContaining(keys, "sendtransferrequest")
	lay.cancel = indexContaining(keys, "canceltransferrequest")
	if lay.send >= 0 || lay.cancel >= 0 {
		lay.format = FormatAdminConsole
		lay.sendName, lay.cancelName = cellAt(header, lay.send), cellAt(header, lay.cancel)
	} else {
		lay.action = indexOf(keys, "action")
	}
	return lay
}

// addressCell is the first cell of a record that is an address once
// cleaned, or -1: a first record with one is data, not a header.
func addressCell(cells []string) int {
	for i, c := range cells {
		if len(c) > maxCellBytes {
			continue
		}
		if u, ok := safetext.Unformula(address.Trim(c)); ok {
			c = u
		}
		if clean, _ := address.Clean(c); address.Validate(clean) == nil {
			return i
		}
	}
	return -1
}

// detectGAM handles a header with no address column: it is GAM output when
// it has a name column and a state column, or a name column whose first
// value is an address or an invitation's resource name. It returns that
// first data record.
func detectGAM(in records, name string, header, keys []string, lay layout) (layout, []record, error) {
	nameCol := indexOf(keys, "name")
	if nameCol < 0 {
		return lay, nil, noAddressColumn(name, header)
	}
	if indexOf(keys, "state") >= 0 {
		lay.email, lay.emailName, lay.format = nameCol, cellAt(header, nameCol), FormatGAM
		return lay, nil, nil
	}
	first, err := peekRecord(in)
	if err != nil {
		return lay, nil, err
	}
	if first == nil || addressCell([]string{gamCell(cellAt(first.cells, nameCol))}) < 0 {
		return lay, nil, noAddressColumn(name, header)
	}
	lay.email, lay.emailName, lay.format = nameCol, cellAt(header, nameCol), FormatGAM
	return lay, []record{*first}, nil
}

// nameColumn reads a name column that --email-column chose: GAM output when
// the header also has a state column or the first value is an invitation's
// resource name, else a plain column.
func nameColumn(in records, keys []string, lay layout) (layout, []record, error) {
	if indexOf(keys, "state") >= 0 {
		lay.format = FormatGAM
		return lay, nil, nil
	}
	first, err := peekRecord(in)
	if err != nil || first == nil {
		return lay, nil, err
	}
	if _, _, ok := SplitName(address.Trim(cellAt(first.cells, lay.email))); ok {
		lay.format = FormatGAM
	}
	return lay, []record{*first}, nil
}

// gamCell is the address of a GAM name cell: the cell itself, or the
// address part of a resource name (the cell when it is malformed).
func gamCell(cell string) string {
	if _, addr, ok := SplitName(address.Trim(cell)); ok {
		return addr
	}
	return cell
}

// peekRecord reads the next non-blank record, nil at the end of the input.
func peekRecord(in records) (*record, error) {
	cells, line, err := nextNonBlank(in)
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &record{cells: slices.Clone(cells), line: line}, nil
}

func noAddressColumn(name string, header []string) error {
	return &InputError{Path: name, Problem: fmt.Sprintf(
		"no address column (looked for %s; header has %s; use --email-column)", emailNames, listCells(header))}
}

// tags are the names gocsv decodes the columns by: the fields of the
// shape's row type for the columns that matter, "Rest" for the others.
func (l layout) tags() []string {
	tags := make([]string, l.width+l.extra)
	for i := range tags {
		switch i {
		case l.email:
			tags[i] = "Email"
			if l.format == FormatGAM {
				tags[i] = "Name"
			}
		case l.action:
			tags[i] = "Action"
		case l.send:
			tags[i] = "Send"
		case l.cancel:
			tags[i] = "Cancel"
		default:
			tags[i] = "Rest"
		}
	}
	return tags
}

// isRest reports whether column i is one of the other columns.
func (l *layout) isRest(i int) bool {
	return i != l.email && i != l.action && i != l.send && i != l.cancel
}

// nameRest names the other columns by their header cells: "column N" for
// an empty cell and in a file without a header, and "NAME (2)" for a
// repeated name, so that every name is unique in the results.
func (l *layout) nameRest() {
	l.restNames = nil
	seen := map[string]int{}
	for i := 0; i < l.width && len(l.restNames) < MaxColumns; i++ {
		if !l.isRest(i) {
			continue
		}
		n := ""
		if l.format != FormatNoHeader {
			n = shorten(strings.TrimSpace(cellAt(l.header, i)), maxQuoted)
		}
		if n == "" {
			n = fmt.Sprintf("column %d", i+1)
		}
		seen[strings.ToLower(n)]++
		if k := seen[strings.ToLower(n)]; k > 1 {
			n = fmt.Sprintf("%s (%d)", n, k)
		}
		l.restNames = append(l.restNames, n)
	}
	l.header = nil
}

// columns pairs a row's other cells with their names, leaving out empty
// ones. A cell is trimmed, loses the quote that defused it as a formula (so
// that a results CSV reads back as it was written), is cut to
// MaxColumnBytes, and is copied: the record's memory is not retained.
func (l *layout) columns(cells []string) []Column {
	var out []Column
	for i, v := range cells {
		if i >= len(l.restNames) {
			break
		}
		v = strings.TrimSpace(v)
		if u, ok := safetext.Unformula(v); ok {
			v = u
		}
		if v == "" {
			continue
		}
		if out == nil {
			out = make([]Column, 0, len(l.restNames)-i)
		}
		out = append(out, Column{Name: l.restNames[i], Value: shorten(v, MaxColumnBytes)})
	}
	return out
}

// project makes the shape's row of a record read without gocsv (a sheet's
// values, the records readHeader kept), the same as gocsv would: cells past
// the header's width are not read.
func (l layout) project(cells []string) shape {
	if len(cells) > l.width+l.extra {
		cells = cells[:l.width+l.extra]
	}
	var rest restCells
	for i, c := range cells {
		if l.isRest(i) {
			_ = rest.UnmarshalCSV(c)
		}
	}
	switch l.format {
	case FormatGAM:
		return &gamRow{Name: cellAt(cells, l.email), Rest: rest}
	case FormatAdminConsole:
		return &consoleRow{Email: cellAt(cells, l.email), Send: cellAt(cells, l.send), Cancel: cellAt(cells, l.cancel), Rest: rest}
	}
	return &plainRow{Email: cellAt(cells, l.email), Action: cellAt(cells, l.action), Rest: rest}
}

// findEmailColumn returns the leftmost column with the most preferred
// address column name, or -1.
func findEmailColumn(keys []string) int {
	for _, k := range emailKeys {
		if i := indexOf(keys, k); i >= 0 {
			return i
		}
	}
	return -1
}

// canonical is how header cells are compared: lower-case letters and digits
// only, after any trailing "[...]" annotations, so "E-mail Address",
// "email_address", "EmailAddress" and "Email Address [Required]" are equal.
// It also drops a BOM that a spreadsheet kept inside the first cell.
func canonical(s string) string {
	s = stripAnnotations(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// stripAnnotations removes trailing bracketed annotations, as the Admin
// console's exports and bulk-upload templates add them ("Status [READ
// ONLY]", "New Primary Email [UPLOAD ONLY]"); a cell that is only an
// annotation is kept.
func stripAnnotations(s string) string {
	t := strings.TrimSpace(s)
	for strings.HasSuffix(t, "]") {
		i := strings.LastIndexByte(t, '[')
		if i <= 0 || strings.TrimSpace(t[:i]) == "" {
			break
		}
		t = strings.TrimSpace(t[:i])
	}
	return t
}

// SplitName splits an invitation's resource name,
// customers/CUSTOMER/userinvitations/ADDRESS, as GAM prints it and the API
// names it, into the customer and the address (percent-decoded when it was
// escaped). ok is false for anything else.
func SplitName(name string) (customer, addr string, ok bool) {
	rest, ok := strings.CutPrefix(name, gamPrefix)
	if !ok {
		return "", "", false
	}
	customer, addr, ok = strings.Cut(rest, gamInfix)
	if !ok || customer == "" || strings.Contains(customer, "/") || addr == "" {
		return "", "", false
	}
	if strings.Contains(addr, "%") {
		if u, err := url.PathUnescape(addr); err == nil {
			addr = u
		}
	}
	return customer, addr, true
}

func indexOf(keys []string, k string) int {
	for i, key := range keys {
		if key == k {
			return i
		}
	}
	return -1
}

func indexContaining(keys []string, k string) int {
	for i, key := range keys {
		if strings.Contains(key, k) {
			return i
		}
	}
	return -1
}

func cellAt(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return "" // short rows are padded with empty cells
	}
	return cells[i]
}

// listCells quotes the header for an error message, bounded so that a
// binary-looking header does not flood the terminal.
func listCells(cells []string) string {
	const maxCells, maxLen = 8, 40
	var b strings.Builder
	for i, c := range cells {
		if i == maxCells {
			fmt.Fprintf(&b, ", … (%d columns)", len(cells))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(c) > maxLen {
			c = c[:maxLen] + "…"
		}
		fmt.Fprintf(&b, "%q", c)
	}
	if len(cells) == 0 {
		return "no columns"
	}
	return b.String()
}

// noHeaderExtra is how many cells past its first line's a line of a list
// without a header is searched for more addresses.
const noHeaderExtra = 16
