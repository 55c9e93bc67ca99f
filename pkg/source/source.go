// Package source turns campaign inputs into targets: CSV and TSV files
// (including Google Sheets downloads), the Admin console's unmanaged-users
// export, GAM's `print userinvitations` output, and Google Sheets read
// through the Sheets API.
//
// Every input goes through one pipeline: a stream of records (a file read by
// encoding/csv, or the values of a sheet) whose first non-blank record is the
// header; the header decides which columns matter and what format the input
// is; each later non-blank record becomes exactly one Target, decoded by
// gocsv, normalised, validated and de-duplicated. Targets reach the caller's
// function in input order as they are read, so a file of any length is never
// held in memory: only the set of addresses already seen (address → first
// row) grows with the input.
//
// # Columns
//
// The address column is found by its header, compared without case, spaces
// or punctuation, as the first of these names that the header holds: email
// (or e-mail), email address, user email, primary email (or primaryEmail).
// So when a file has both "User Email" and "Email", "Email" is used; when two
// columns have the same name, the leftmost is used. Options.EmailColumn
// names the column instead, compared the same way.
//
// A header with neither an address column nor Options.EmailColumn but with a
// `name` column is GAM `print userinvitations` output when the first data
// row's name is customers/…/userinvitations/ADDRESS (or when there are no
// data rows and the header also has a `state` column).
//
// A header with a "(Re) Send transfer requests" or "Cancel transfer
// requests" column is the Admin console's unmanaged-users export: Yes in the
// first asks for an invitation, Yes in the second for a cancellation, No in
// both for nothing (an empty cell counts as No). Such a file's `action`
// column, if any, is ignored. Any other file may have an `action` column
// (invite or cancel, any case; empty leaves the caller's default).
//
// # Rows
//
// A record whose cells are all empty or white space is a blank line and
// yields nothing. Any other record yields a Target whose Reason is, in this
// order of precedence: invalid_row (a GAM name that is not a user invitation
// name), invalid_email (address.Validate fails, including an empty cell),
// invalid_row (a bad action, or Yes in both transfer columns), no_action (No
// in both), duplicate (the address was already claimed by an earlier row), or
// "". Only rows with Reason "" claim their address: an invalid or no_action
// row does not, so a later row with the same address is its first
// occurrence.
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
)

// Target is one data row of the input, in file order. Every data row yields
// exactly one Target (blank lines excepted), valid or not, so the planner can
// account for every row.
type Target struct {
	Row      int    // line number where the record starts in the file (1-based, header on its line); for sheets:// the spreadsheet row number
	Email    string // address.Key of the cell; address.Trim of it when invalid, for the report
	Action   Action // what the row itself asks for; ActionDefault when it does not say
	Reason   string // "" for a valid first occurrence; else "invalid_email", "invalid_row", "duplicate", "no_action"
	Detail   string // human explanation when Reason is invalid_email / invalid_row (from address.Validate etc.)
	FirstRow int    // for Reason "duplicate": Row of the first occurrence of that address
}

// Options adjust how an input is read.
type Options struct {
	Delimiter   rune   // 0: detect (comma, tab, semicolon) from the content
	EmailColumn string // "": find the address column from the header
}

// Info describes an input that was read.
type Info struct {
	Path   string // as given
	SHA256 string // hex sha256 of the raw bytes read (for sheets://, of the values as fetched, JSON-encoded)
	Rows   int    // data rows yielded
	Format string // "csv", "tsv", "admin-console", "gam", "sheets"
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
// reading and is returned as is.
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
	in, format, err := openCSV(io.TeeReader(r, h), name, opts.Delimiter)
	if err != nil {
		return info, err
	}
	info.Format = format
	rows, format, err := run(in, name, opts, fn)
	info.Rows = rows
	if format != "" {
		info.Format = format
	}
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
