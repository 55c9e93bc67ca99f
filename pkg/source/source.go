// Package source turns campaign inputs into targets: CSV and TSV files
// (including Google Sheets and Excel downloads), lists of addresses without a
// header, the Admin console's unmanaged-users export and user exports,
// GAM's `print userinvitations` and `check isinvitable` output, and Google
// Sheets read through the Sheets API (sheets://ID[/RANGE], or the URL of the
// spreadsheet as a browser shows it).
//
// # Text
//
// A file is read once, hashed as it is read. It must be text: UTF-8 (a
// byte-order mark is dropped), or UTF-16 with a byte-order mark (Excel's
// "Unicode Text"), which is transcoded without asking; Options.Encoding
// names any other encoding (windows-1252, iso-8859-1, utf-16le, utf-16be).
// The whole file is checked: a byte that is not UTF-8, or a NUL, is refused
// with its line. A ZIP archive (.xlsx, .ods) or an .xls workbook is refused
// at once. No record (a line, or the lines of a quoted field) may be longer
// than MaxRecordBytes, so that a file that is not a campaign (one huge line,
// an unbalanced quote) is refused in bounded memory.
//
// # Columns
//
// The first non-blank record is the header. Its cells are compared without
// case, spaces, punctuation or a trailing "[...]" annotation (as in the Admin
// console's "Email Address [Required]"). The address column is the first of
// these names that the header holds: email (or e-mail), email address, user
// email, primary email (or primaryEmail), invitableUsers (GAM's check
// isinvitable). So when a file has both "User Email" and "Email", "Email" is
// used; when two columns have the same name, the leftmost is used.
// Options.EmailColumn names the column instead, compared the same way.
//
// A header with none of them but a `name` column is GAM `print
// userinvitations` output when it also has a `state` column, or when the
// first data row's name is an address or customers/…/userinvitations/ADDRESS;
// a name may be either.
//
// A first record with no column name but an address in a cell is not a
// header: the input is a list without one (Info.Format "no-header"), and that
// cell's column is read from every record, the first included.
//
// A header with a "(Re) Send transfer requests" or "Cancel transfer
// requests" column is the Admin console's unmanaged-users export: Yes in the
// first asks for an invitation, Yes in the second for a cancellation, No in
// both for nothing (an empty cell counts as No). Such a file's `action`
// column, if any, is ignored. Any other file may have an `action` column
// (invite or cancel, any case; empty leaves the caller's default).
//
// Each shape is decoded as typed rows by gocsv.
//
// # Rows
//
// A record whose cells are all empty or white space is a blank line and
// yields nothing. Any other record yields a Target. Its address cell is
// cleaned before address.Key validates it: the quote that keeps a
// spreadsheet from reading a cell as a formula (safetext.Formula) is
// removed, and so are invisible format characters, display names, angle
// brackets, mailto: and trailing separators (address.Clean); the Target's
// Detail says what was removed. Its Reason is, in this order of precedence:
// invalid_row (a GAM name that is not a user invitation name), invalid_email
// (the address is refused, including an empty cell), invalid_row (a bad
// action, or Yes in both transfer columns), no_action (No in both), duplicate
// (the address was already claimed by an earlier row), or "". Only rows with
// Reason "" claim their address: an invalid or no_action row does not, so a
// later row with the same address is its first occurrence.
//
// An input with more than MaxRows rows, or MaxInvalidRows rows whose address
// cell holds something that is not an address, or one where that is most of
// the first thousand rows, is not a campaign and is refused, so that no input
// makes the reader hold more than a bounded amount of memory.
package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Limits on what an input may hold. A campaign is far inside them; they make
// sure that a file that is not one is refused in bounded memory.
const (
	// MaxRecordBytes bounds a record: a line, or the lines of a quoted
	// field. Longer is one huge line or an unbalanced quote.
	MaxRecordBytes = 1 << 20
	// MaxRows bounds the data rows of an input: five million rows take
	// weeks at the API's pace; split such a campaign.
	MaxRows = 5_000_000
	// MaxLines bounds the lines of a file, blank ones included, which
	// yield no row: room for every row to hold a few newlines.
	MaxLines = 4 * MaxRows
	// MaxInvalidRows bounds the rows whose address cell holds something
	// that is not an address (empty cells do not count).
	MaxInvalidRows = 10_000
	// maxCellBytes bounds an address cell that is kept: an address has at
	// most 254 bytes, and its display name a few dozen more.
	maxCellBytes = 512
	// MaxColumns bounds the other columns carried through to the results,
	// and MaxColumnBytes each of their cells (a longer one is cut, marked
	// with an ellipsis): a name, a team or a note, not a document.
	MaxColumns     = 64
	MaxColumnBytes = 512
)

// Action is what a row itself asks for.
type Action string

const (
	ActionDefault Action = ""       // the row does not say: the caller's --action applies
	ActionInvite  Action = "invite" // send (or re-send) an invitation
	ActionCancel  Action = "cancel" // cancel a sent invitation
	ActionNone    Action = "none"   // the row explicitly asks for nothing (Admin console export No/No)
)

// Reasons a Target is not a valid first occurrence.
const (
	ReasonInvalidEmail = "invalid_email"
	ReasonInvalidRow   = "invalid_row"
	ReasonDuplicate    = "duplicate"
	ReasonNoAction     = "no_action"
)

// Formats reported in Info.Format.
const (
	FormatCSV          = "csv"
	FormatTSV          = "tsv"
	FormatAdminConsole = "admin-console"
	FormatGAM          = "gam"
	FormatSheets       = "sheets"
	// FormatNoHeader is a file whose first line is already data, such as a
	// list of addresses, one per line.
	FormatNoHeader = "no-header"
)

// Target is one data row of the input, in file order. Every data row yields
// exactly one Target (blank lines excepted), valid or not, so the planner can
// account for every row.
type Target struct {
	Row    int    // line number where the record starts in the file (1-based, header on its line); for sheets:// the spreadsheet row number
	Email  string // address.Key of the cleaned cell; the cleaned cell (cut to 256 bytes) when invalid, for the report
	Action Action // what the row itself asks for; ActionDefault when it does not say
	Reason string // "" for a valid first occurrence; else "invalid_email", "invalid_row", "duplicate", "no_action"
	// Detail explains an invalid_email or invalid_row (from address.Validate
	// etc.) and, for any row, what cleaning the cell removed ("removed
	// invisible U+200B", `taken from "Ann <ann@example.org>"`).
	Detail   string
	FirstRow int // for Reason "duplicate": Row of the first occurrence of that address
	// Resend says that the row asks for an email even when an invitation
	// was sent already: the Admin console export's "(Re) Send transfer
	// requests" = Yes. Action is then ActionInvite.
	Resend bool
	// Columns are the row's other cells (a name, a team), in column order,
	// named by the header (or "column N" without one); empty cells are
	// left out. See Info.Columns for every name.
	Columns []Column
}

// Column is one cell of a row outside the address and action columns.
type Column struct {
	Name  string
	Value string
}

// Options adjust how an input is read.
type Options struct {
	Delimiter   rune   // 0: detect (comma, tab, semicolon) from the content
	EmailColumn string // "": find the address column from the header
	// Encoding is the file's character encoding, one of Encodings; ""
	// reads UTF-8, or UTF-16 when the file starts with its byte-order mark.
	Encoding string
}

// Info describes an input that was read.
type Info struct {
	Path   string // as given
	SHA256 string // hex sha256 of the raw bytes read (for a sheet, of the values as fetched, JSON-encoded)
	Rows   int    // data rows yielded
	Format string // "csv", "tsv", "no-header", "admin-console", "gam", "sheets"
	// Columns names the columns that Target.Columns carries, in column
	// order: every column of the header but the address and the action
	// columns (at most MaxColumns).
	Columns []string
}

// InputError is every error about the input's content or its file (missing,
// unreadable, not a campaign file). The CLI maps it to exit code 2.
type InputError struct {
	Path    string
	Line    int // 0 when the problem is not on one line
	Problem string
	Err     error
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.Path == "" {
		b.WriteString("input")
	} else {
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	switch {
	case e.Problem != "" && e.Err != nil:
		b.WriteString(e.Problem + ": " + e.Err.Error())
	case e.Problem != "":
		b.WriteString(e.Problem)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("invalid input")
	}
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// ReadFile streams the targets of path to fn in file order; fn's error stops
// reading and is returned as is. path may be a pipe, a FIFO or /dev/stdin:
// it is read once.
func ReadFile(path string, opts Options, fn func(Target) error) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{Path: path}, &InputError{Path: path, Err: pathCause(err)}
	}
	defer f.Close()
	return Read(f, path, opts, fn)
}

// Read does the same as ReadFile from r; name is used in errors and
// Info.Path.
func Read(r io.Reader, name string, opts Options, fn func(Target) error) (Info, error) {
	info := Info{Path: name}
	h := sha256.New()
	text, err := openText(io.TeeReader(r, h), name, opts.Encoding)
	if err != nil {
		return info, err
	}
	info.Rows, info.Format, info.Columns, err = readCSV(text, name, opts, fn)
	info.SHA256 = hex.EncodeToString(h.Sum(nil))
	return info, err
}

// pathCause drops the *fs.PathError wrapper, whose operation and path would
// repeat what InputError already says, keeping errors.Is(err, fs.ErrNotExist).
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
