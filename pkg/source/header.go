package source

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/invitectl/invitectl/pkg/address"
)

// emailKeys are the canonical forms of the address column names, in order of
// preference; emailNames is how errors list them.
var emailKeys = [...]string{"email", "emailaddress", "useremail", "primaryemail"}

const emailNames = "email, e-mail, email address, user email, primary email, primaryEmail"

const (
	gamPrefix = "customers/"
	gamInfix  = "/userinvitations/"
)

// layout is what the header says about the input: where the columns that
// matter are (-1 when absent) and which format it is.
type layout struct {
	email, action, send, cancel int
	sendName, cancelName        string // header cells, for row details
	format                      string // "" (plain), FormatAdminConsole or FormatGAM
}

// record is one record of the stream with the line (or sheet row) it starts on.
type record struct {
	cells []string
	line  int
}

// readHeader reads the header record and, for a possible GAM file, the first
// data record, which it returns so that it is not lost. Every error here
// comes before any target is yielded.
func readHeader(in records, name string, opts Options) (layout, *record, error) {
	cells, line, err := nextNonBlank(in)
	if err == io.EOF {
		return layout{}, nil, &InputError{Path: name, Problem: "no header line: the input is blank"}
	}
	if err != nil {
		return layout{}, nil, err
	}
	header := append([]string(nil), cells...) // the stream may reuse cells
	keys := make([]string, len(header))
	for i, h := range header {
		keys[i] = canonical(h)
	}
	lay := headerLayout(header, keys, opts)
	if opts.EmailColumn != "" && lay.email < 0 {
		return lay, nil, &InputError{Path: name, Line: line,
			Problem: fmt.Sprintf("no column %q in the header (%s)", opts.EmailColumn, listCells(header))}
	}
	if lay.format == FormatAdminConsole || (lay.email >= 0 && keys[lay.email] != "name") {
		if lay.email < 0 {
			return lay, nil, noAddressColumn(name, line, header)
		}
		return lay, nil, nil
	}
	lay, first, err := detectGAM(in, keys, lay)
	if err == errNoAddressColumn {
		err = noAddressColumn(name, line, header)
	}
	return lay, first, err
}

// headerLayout finds the columns that matter; email is -1 when no column
// has an address column name (or Options.EmailColumn).
func headerLayout(header, keys []string, opts Options) layout {
	lay := layout{email: -1, action: -1, send: -1, cancel: -1}
	if opts.EmailColumn != "" {
		lay.email = indexOf(keys, canonical(opts.EmailColumn))
	} else {
		lay.email = findEmailColumn(keys)
	}
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

var errNoAddressColumn = errors.New("no address column")

// detectGAM handles a header with no address column, or one called "name":
// it is GAM output when the name column holds user invitation names, which
// only the first data row can tell. It returns that row.
func detectGAM(in records, keys []string, lay layout) (layout, *record, error) {
	nameCol, fallback := lay.email, lay.email < 0
	if fallback {
		if nameCol = indexOf(keys, "name"); nameCol < 0 {
			return lay, nil, errNoAddressColumn
		}
	}
	first, err := peekRecord(in)
	if err != nil {
		return lay, nil, err
	}
	switch {
	case first != nil && looksLikeGAM(cellAt(first.cells, nameCol)),
		first == nil && fallback && indexOf(keys, "state") >= 0:
		lay.email, lay.format = nameCol, FormatGAM
	case fallback:
		return lay, nil, errNoAddressColumn
	}
	return lay, first, nil
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
	return &record{cells: append([]string(nil), cells...), line: line}, nil
}

func noAddressColumn(name string, line int, header []string) error {
	problem := fmt.Sprintf("no address column (looked for %s; header has %s; use --email-column)",
		emailNames, listCells(header))
	for _, h := range header {
		if _, err := address.Key(h); err == nil {
			problem += fmt.Sprintf("; line %d looks like data (%q): add a header line such as \"email\"", line, h)
			break
		}
	}
	return &InputError{Path: name, Problem: problem}
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
// only, so "E-mail Address", "email_address" and "EmailAddress" are equal.
// It also drops a BOM that a spreadsheet kept inside the first cell.
func canonical(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func looksLikeGAM(cell string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(cell), gamPrefix)
	return ok && strings.Contains(rest, gamInfix)
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
