package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// readAll collects what ReadFile yields.
func readAll(t *testing.T, path string, opts Options) ([]Target, Info, error) {
	t.Helper()
	var got []Target
	info, err := ReadFile(path, opts, func(tg Target) error {
		got = append(got, tg)
		return nil
	})
	return got, info, err
}

// tg builds an expected target; Detail is checked separately.
func tg(row int, email string, action Action, reason string, first int) Target {
	return Target{Row: row, Email: email, Action: action, Reason: reason, FirstRow: first}
}

// resend is tg of a row that asks for an email even to someone invited
// (the Admin console export's "(Re) Send transfer requests" = Yes).
func resend(row int, email string, reason string) Target {
	t := tg(row, email, ActionInvite, reason, 0)
	t.Resend = true
	return t
}

// tgd is tg with the Detail expected: the row's cell was cleaned.
func tgd(row int, email string, action Action, reason string, first int, detail string) Target {
	t := tg(row, email, action, reason, first)
	t.Detail = detail
	return t
}

// checkTargets compares everything but Detail exactly. Detail is compared
// exactly when the wanted target has one, and else must be present exactly
// when the reason calls for an explanation.
func checkTargets(t *testing.T, got, want []Target) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			t.Errorf("target %d missing, want %+v", i, want[i])
			continue
		case i >= len(want):
			t.Errorf("unexpected target %d: %+v", i, got[i])
			continue
		}
		g, w := got[i], want[i]
		needDetail := g.Reason == ReasonInvalidEmail || g.Reason == ReasonInvalidRow
		switch {
		case w.Detail != "" && g.Detail != w.Detail:
			t.Errorf("target %d (row %d): Detail %q, want %q", i, g.Row, g.Detail, w.Detail)
		case w.Detail == "" && (g.Detail != "") != needDetail:
			t.Errorf("target %d (row %d): Detail %q for reason %q", i, g.Row, g.Detail, g.Reason)
		}
		g.Detail, w.Detail = "", ""
		if w.Columns == nil {
			g.Columns = nil // TestColumns checks them
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("target %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

const unformulaNote = "removed the leading ' that kept a spreadsheet from reading it as a formula"

func TestReadFileFixtures(t *testing.T) {
	const none = ActionDefault
	tests := []struct {
		file   string
		opts   Options
		format string
		want   []Target
	}{
		{
			file:   "admin-console.csv",
			format: FormatAdminConsole,
			want: []Target{
				resend(2, "alice@gmail.com", ""),
				tg(3, "bob@gmail.com", ActionCancel, "", 0),
				tg(4, "carol@gmail.com", ActionNone, ReasonNoAction, 0),
				tg(5, "dave@gmail.com", none, ReasonInvalidRow, 0),
				tg(6, "erin@gmail.com", none, ReasonInvalidRow, 0),
				resend(7, "not-an-address", ReasonInvalidEmail),
				tg(8, "alice@gmail.com", ActionCancel, ReasonDuplicate, 2),
				resend(9, "carol@gmail.com", ""), // the No/No row did not claim it
				tg(10, "frank@gmail.com", ActionNone, ReasonNoAction, 0),
			},
		},
		{
			file:   "sheets-download.csv", // BOM, CRLF, embedded newlines, ragged rows, blank lines
			format: FormatCSV,
			want: []Target{
				tg(2, "alice@example.com", none, "", 0),
				tg(3, "bob@example.com", none, "", 0),
				tg(6, "carol@example.com", none, "", 0),
				tg(7, "dave@example.com", none, "", 0),
				tg(9, "", none, ReasonInvalidEmail, 0),
				tg(10, "alice@example.com", none, ReasonDuplicate, 2),
				tg(11, "erin@example.com", none, "", 0),
				tg(13, "frank@example.com", none, "", 0),
			},
		},
		{
			file:   "gam.csv",
			format: FormatGAM,
			want: []Target{
				tg(2, "alice@example.com", none, "", 0),
				tg(3, "bob@example.com", none, "", 0),
				tg(4, "carol@example.com", none, "", 0),
				tg(5, "bad..dots@example.com", none, ReasonInvalidEmail, 0),
				tg(6, "users/alice@example.com", none, ReasonInvalidRow, 0),
				tg(7, "", none, ReasonInvalidEmail, 0),
				tg(8, "alice@example.com", none, ReasonDuplicate, 2),
			},
		},
		{
			file:   "campaign.tsv",
			format: FormatTSV,
			want: []Target{
				tg(2, "alice@example.com", none, "", 0),
				tg(3, "bob@example.com", none, "", 0),
				tg(5, "", none, ReasonInvalidEmail, 0),
				tg(6, "carol@example.com", none, "", 0),
			},
		},
		{
			file:   "semicolon.csv",
			format: FormatCSV,
			want: []Target{
				tg(2, "alice@example.com", none, "", 0),
				tg(3, "bob@example.com", none, "", 0),
				tg(4, "alice@example.com", none, ReasonDuplicate, 2),
			},
		},
		{
			file:   "action.csv",
			format: FormatCSV,
			want: []Target{
				tg(2, "alice@example.com", ActionInvite, "", 0),
				tg(3, "bob@example.com", ActionCancel, "", 0),
				tg(4, "carol@example.com", none, "", 0),
				tg(5, "dave@example.com", none, ReasonInvalidRow, 0),
				tg(6, "bob@example.com", ActionInvite, ReasonDuplicate, 3),
				tg(7, "erin@example@com", ActionCancel, ReasonInvalidEmail, 0),
			},
		},
		{
			file:   "header-only.csv",
			format: FormatCSV,
		},
		{
			file:   "semicolon.csv", // the delimiter given rather than detected
			opts:   Options{Delimiter: ';', EmailColumn: "e mail"},
			format: FormatCSV,
			want: []Target{
				tg(2, "alice@example.com", none, "", 0),
				tg(3, "bob@example.com", none, "", 0),
				tg(4, "alice@example.com", none, ReasonDuplicate, 2),
			},
		},
		{
			file:   "gam6.csv", // item 1: GAM 6 prints bare addresses in name
			format: FormatGAM,
			want: []Target{
				tg(2, "alice@example.org", none, "", 0),
				tg(3, "bob@example.org", none, "", 0),
				tg(4, "carol@example.org", none, "", 0),
			},
		},
		{
			file:   "gam-invitable.csv", // item 2: GAM check isinvitable
			format: FormatCSV,
			want:   []Target{tg(2, "alice@example.org", none, "", 0)},
		},
		{
			file:   "console-users.csv", // item 3: bracketed annotations
			format: FormatCSV,
			want: []Target{
				tg(2, "alice@example.org", none, "", 0),
				tg(3, "bob@example.org", none, "", 0),
			},
		},
		{
			file:   "console-upload-template.csv", // "New Primary Email [UPLOAD ONLY]" is not the address column
			format: FormatCSV,
			want:   []Target{tg(2, "alice@example.org", none, "", 0)},
		},
		{
			file:   "headerless.csv", // item 4: no header line, the first line is data
			format: FormatNoHeader,
			want: []Target{
				tg(1, "alice@example.com", none, "", 0),
				tg(2, "bob@example.com", none, "", 0),
			},
		},
		{
			file:   "headerless-list.txt",
			format: FormatNoHeader,
			want: []Target{
				tg(1, "alice@example.org", none, "", 0),
				tg(2, "bob@example.org", none, "", 0),
				tg(4, "not an address", none, ReasonInvalidEmail, 0),
				tg(5, "alice@example.org", none, ReasonDuplicate, 1),
			},
		},
		{
			file:   "headerless-second.tsv",
			format: FormatNoHeader,
			want: []Target{
				tg(1, "alice@example.org", none, "", 0),
				tg(2, "bob@example.org", none, "", 0),
			},
		},
		{
			file:   "utf16le-bom.csv", // item 5: Excel's "Unicode Text", transcoded without asking
			format: FormatTSV,
			want: []Target{
				tg(2, "alice@example.org", none, "", 0),
				tg(3, "bob@example.org", none, "", 0),
			},
		},
		{
			file:   "utf16be-bom.csv",
			format: FormatCSV,
			want:   []Target{tg(2, "alice@example.org", none, "", 0)},
		},
		{
			file:   "utf16le-nobom.csv",
			opts:   Options{Encoding: EncodingUTF16LE},
			format: FormatCSV,
			want:   []Target{tg(2, "alice@example.org", none, "", 0)},
		},
		{
			file:   "cp1252-early.csv",
			opts:   Options{Encoding: EncodingWindows1252},
			format: FormatCSV,
			want: []Target{
				tg(2, "alice@example.org", none, "", 0),
				tg(3, "bob@example.org", none, "", 0),
			},
		},
		{
			file:   "invisible.csv", // item 6
			format: FormatCSV,
			want: []Target{
				tgd(2, "alice@example.org", none, "", 0, "removed invisible U+200B"),
				tgd(3, "bob@example.org", none, "", 0, "removed invisible U+FEFF"),
				tgd(4, "carol@example.org", none, "", 0, "removed invisible U+200F, U+00AD"),
				tgd(5, "dave@example.org", none, "", 0, "removed invisible U+2060, U+200B"),
				tg(6, "erin@example.org", none, "", 0),
				tgd(7, "", none, ReasonInvalidEmail, 0, "empty address; removed invisible U+200B"),
			},
		},
		{
			file:   "wrapped.csv", // item 7
			format: FormatCSV,
			want: []Target{
				tgd(2, "ann@example.org", none, "", 0, `taken from "Ann Example <ann@example.org>"`),
				tgd(3, "ann2@example.org", none, "", 0, `taken from "\"Example, Ann\" <ann2@example.org>"`),
				tgd(4, "ann3@example.org", none, "", 0, `taken from "<ann3@example.org>"`),
				tgd(5, "ann4@example.org", none, "", 0, `taken from "mailto:ann4@example.org"`),
				tgd(6, "ann5@example.org", none, "", 0, `taken from "ann5@example.org;"`),
				tg(7, "x@127.0.0.1", none, ReasonInvalidEmail, 0),
				tg(8, "x@[127.0.0.1]", none, ReasonInvalidEmail, 0),
				tgd(9, "ann@example.org", none, ReasonDuplicate, 2, `taken from "Ann Example <ann@example.org>"`),
			},
		},
		{
			file:   "neutralised.csv", // item 13: what invitectl's CSVs write reads back as it was
			format: FormatCSV,
			want: []Target{
				tgd(2, "=cmd@example.org", none, "", 0, unformulaNote),
				tg(3, "@sum(1+1)@example.org", none, ReasonInvalidEmail, 0),
				tgd(4, "-2+3@example.org", none, "", 0, unformulaNote),
				tgd(5, "tab@example.org", none, "", 0, unformulaNote),
				tgd(6, "'quote@example.org", none, "", 0, unformulaNote),
				tg(7, "o'neil@example.org", none, "", 0),
			},
		},
		{
			file:   "sheets-download.csv", // another column named: its cells are not addresses
			opts:   Options{EmailColumn: "NAME"},
			format: FormatCSV,
			want: []Target{
				// Kept as written (trimmed, case kept), for the report.
				tg(2, "Alice", none, ReasonInvalidEmail, 0),
				tg(3, "Bob", none, ReasonInvalidEmail, 0),
				tg(6, "", none, ReasonInvalidEmail, 0),
				tg(7, "Dave", none, ReasonInvalidEmail, 0),
				tg(9, "Nobody", none, ReasonInvalidEmail, 0),
				tg(10, "Alice, again", none, ReasonInvalidEmail, 0),
				tg(11, "Erin\"s\nnote", none, ReasonInvalidEmail, 0),
				tg(13, "Frank", none, ReasonInvalidEmail, 0),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			got, info, err := readAll(t, path, tt.opts)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			checkTargets(t, got, tt.want)
			raw, _ := os.ReadFile(path)
			want := Info{Path: path, SHA256: sha256Hex(raw), Rows: len(tt.want), Format: tt.format}
			info.Columns = nil // TestColumns checks them
			if !reflect.DeepEqual(info, want) {
				t.Errorf("Info = %+v, want %+v", info, want)
			}
		})
	}
}

func TestReadDetails(t *testing.T) {
	tests := []struct {
		file       string
		row        int
		wantDetail string
	}{
		{"admin-console.csv", 5, `both "(Re) Send transfer requests" and "Cancel transfer requests" are Yes`},
		{"admin-console.csv", 6, `"(Re) Send transfer requests" is "Maybe", want Yes or No`},
		{"admin-console.csv", 7, `"not-an-address"`},
		{"action.csv", 5, `action "delete" is neither invite nor cancel`},
		{"gam.csv", 6, `name "users/alice@example.com" is neither an address nor customers/…/userinvitations/ADDRESS`},
		{"wrapped.csv", 7, `"x@127.0.0.1": domain "127.0.0.1" is an IP address`},
		{"wrapped.csv", 8, `domain "[127.0.0.1]" is an IP address`},
		{"neutralised.csv", 2, "removed the leading ' that kept a spreadsheet from reading it as a formula"},
		{"gam.csv", 7, "empty address"},
		{"sheets-download.csv", 9, "empty address"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.file, tt.row), func(t *testing.T) {
			got, _, err := readAll(t, filepath.Join("testdata", tt.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				if g.Row == tt.row {
					if !strings.Contains(g.Detail, tt.wantDetail) {
						t.Errorf("Detail = %q, want it to contain %q", g.Detail, tt.wantDetail)
					}
					return
				}
			}
			t.Errorf("no target on row %d", tt.row)
		})
	}
}

func TestReadColumns(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []Target
	}{
		{
			name:  "earliest candidate in the list wins over leftmost",
			input: "User Email,Primary Email,EMAIL\nu@example.com,p@example.com,e@example.com\n",
			want:  []Target{tg(2, "e@example.com", "", "", 0)},
		},
		{
			name:  "email address before user email",
			input: "primaryEmail,user_email,Email-Address\np@example.com,u@example.com,a@example.com\n",
			want:  []Target{tg(2, "a@example.com", "", "", 0)},
		},
		{
			name:  "same name twice: leftmost",
			input: "E-mail,email\nfirst@example.com,second@example.com\n",
			want:  []Target{tg(2, "first@example.com", "", "", 0)},
		},
		{
			name:  "email column option overrides the candidates",
			input: "email,Work Mail\nx@example.com,w@example.com\n",
			opts:  Options{EmailColumn: "work_mail"},
			want:  []Target{tg(2, "w@example.com", "", "", 0)},
		},
		{
			name:  "single column, no delimiter",
			input: "email\nA@Example.com\n\n  \nb@example.com",
			want:  []Target{tg(2, "a@example.com", "", "", 0), tg(5, "b@example.com", "", "", 0)},
		},
		{
			name:  "leading blank lines before the header",
			input: "\n\n,,\nname,email\nA,a@example.com\n",
			want:  []Target{tg(5, "a@example.com", "", "", 0)},
		},
		{
			name:  "space after the comma before a quote",
			input: "email, name\na@example.com, \"Doe, Jane\"\n",
			want:  []Target{tg(2, "a@example.com", "", "", 0)},
		},
		{
			name:  "gam header only",
			input: "name,state,updateTime,mailsSentCount\n",
		},
		{
			name:  "name column used as address column by option",
			input: "name,state\ncustomers/C1/userinvitations/a@example.com,INVITED\n",
			opts:  Options{EmailColumn: "name"},
			want:  []Target{tg(2, "a@example.com", "", "", 0)},
		},
		{
			name:  "an address column wins over a gam name column",
			input: "name,email\ncustomers/C1/userinvitations/a@example.com,b@example.com\n",
			want:  []Target{tg(2, "b@example.com", "", "", 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Target
			_, err := Read(strings.NewReader(tt.input), "in.csv", tt.opts, func(tg Target) error {
				got = append(got, tg)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			checkTargets(t, got, tt.want)
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file      string // under testdata unless absolute
		opts      Options
		line      int
		problem   string
		wantRows  []int    // rows yielded before the error
		wantIs    error    // errors.Is target, if any
		wantAlsoN []string // more substrings
	}{
		{file: "binary.csv", line: 2, problem: "binary content"},
		{file: "latin1.csv", line: 2, problem: "not UTF-8 text (byte 0xe9); save the file as CSV UTF-8, or pass --encoding windows-1252"},
		// Item 5: the whole file is checked, and the first bad line named.
		{file: "cp1252-early.csv", line: 2, problem: "not UTF-8 text (byte 0xe9)"},
		{file: "cp1252-late.csv", line: 42, problem: "not UTF-8 text (byte 0xe9)", wantRows: seq(2, 41)},
		{file: "utf16le-nobom.csv", line: 1, problem: "binary content (a NUL byte), not a CSV or TSV file (UTF-16 without a byte-order mark? pass --encoding utf-16le or utf-16be)"},
		{file: "utf16le-bom.csv", opts: Options{Encoding: EncodingWindows1252}, problem: "byte-order mark of utf-16le, not windows-1252"},
		{file: "action.csv", opts: Options{Encoding: "ebcdic"}, problem: `unknown encoding "ebcdic"`},
		{file: "workbook.xlsx", problem: "ZIP archive"},
		{file: "unbalanced-quote.csv", line: 3, problem: "quoted field in this record is still open at line 5", wantRows: []int{2}},
		{file: "bare-quote.csv", line: 3, problem: `bare " in non-quoted-field`, wantRows: []int{2}},
		{file: "no-address.csv", problem: `no address column (looked for email, e-mail, email address, user email, primary email, primaryEmail, invitableUsers; header has "first name", "last name", "phone"; use --email-column)`},
		{file: "empty.csv", problem: "empty file"},
		{file: "blank.csv", problem: "no header line"},
		{file: "gam.csv", opts: Options{EmailColumn: "mail"}, line: 1, problem: `no column "mail" in the header ("name", "state", "updateTime", "mailsSentCount")`},
		{file: "action.csv", opts: Options{Delimiter: '"'}, problem: `invalid delimiter '"'`},
		{file: filepath.Join(dir, "missing.csv"), problem: "no such file or directory", wantIs: fs.ErrNotExist},
		{file: dir, problem: "is a directory"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			path := tt.file
			if !filepath.IsAbs(path) {
				path = filepath.Join("testdata", path)
			}
			got, info, err := readAll(t, path, tt.opts)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *InputError", err, err)
			}
			prefix := path + ": "
			if tt.line > 0 {
				prefix = fmt.Sprintf("%s line %d: ", path, tt.line)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.problem) {
				t.Errorf("error %q, want prefix %q and %q", msg, prefix, tt.problem)
			}
			if ie.Path != path || ie.Line != tt.line {
				t.Errorf("InputError{Path: %q, Line: %d}, want %q, %d", ie.Path, ie.Line, path, tt.line)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			var rows []int
			for _, g := range got {
				rows = append(rows, g.Row)
			}
			if fmt.Sprint(rows) != fmt.Sprint(tt.wantRows) {
				t.Errorf("rows yielded before the error: %v, want %v", rows, tt.wantRows)
			}
			if info.Path != path || info.Rows != len(tt.wantRows) {
				t.Errorf("Info = %+v", info)
			}
		})
	}
}

func TestReadStopsOnCallbackError(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := errors.New("stop here")
	calls := 0
	info, err := ReadFile("testdata/action.csv", Options{}, func(Target) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("err = %v, want the callback's error as is", err)
	}
	if calls != 2 || info.Rows != 2 {
		t.Errorf("calls = %d, Info.Rows = %d, want 2 and 2", calls, info.Rows)
	}
	// gocsv's reading goroutine must be gone too.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after reading, %d before", n, before)
	}
}

// lazyInput produces a CSV of n rows on demand and records how far it got.
type lazyInput struct {
	n, next  int
	buf      bytes.Buffer
	produced int // bytes handed out
}

func (l *lazyInput) Read(p []byte) (int, error) {
	for l.buf.Len() < len(p) && l.next <= l.n {
		if l.next == 0 {
			l.buf.WriteString("email,name\n")
		} else {
			fmt.Fprintf(&l.buf, "user%d@example.com,User %d\n", l.next, l.next)
		}
		l.next++
	}
	if l.buf.Len() == 0 {
		return 0, io.EOF
	}
	n, _ := l.buf.Read(p)
	l.produced += n
	return n, nil
}

func TestReadStreams(t *testing.T) {
	in := &lazyInput{n: 200_000}
	rows := 0
	_, err := Read(in, "big.csv", Options{}, func(tg Target) error {
		rows++
		if rows == 1 && in.next > in.n {
			t.Errorf("the whole input was read before the first target")
		}
		if tg.Reason != "" || tg.Row != rows+1 {
			t.Fatalf("unexpected target %+v", tg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != in.n {
		t.Errorf("%d rows, want %d", rows, in.n)
	}
}

func TestInputErrorMessage(t *testing.T) {
	tests := []struct {
		err  *InputError
		want string
	}{
		{&InputError{Path: "campaign.csv", Line: 12, Err: errors.New(`bare " in non-quoted field`)}, `campaign.csv line 12: bare " in non-quoted field`},
		{&InputError{Path: "campaign.csv", Problem: "no address column"}, "campaign.csv: no address column"},
		{&InputError{Path: "c.csv", Line: 3, Problem: "bad", Err: io.ErrUnexpectedEOF}, "c.csv line 3: bad: unexpected EOF"},
		{&InputError{}, "input: invalid input"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		head string
		want rune
	}{
		{"email\n", ','},
		{"email,name\n", ','},
		{"email\tname\tnote,with,commas\n", ','}, // counts decide: 3 commas, 2 tabs
		{"email\tname\tteam\na,b,c,d,e\n", '\t'},
		{"email;name\n", ';'},
		{`"a,b";c;d` + "\n", ';'},
		{"\n\t\n  \nemail;name", ';'},
		{"email,name;x\n", ','}, // tie: comma first
	}
	for _, tt := range tests {
		if got := sniffDelimiter([]byte(tt.head)); got != tt.want {
			t.Errorf("sniffDelimiter(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}

// seq is the rows from to to.
func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestColumns: the cells outside the address and action columns are carried,
// named by the header (unique, "column N" where there is no name), trimmed,
// without the quote that defused a formula, empty ones left out, in every
// shape and through Load.
func TestColumns(t *testing.T) {
	tests := []struct {
		file  string
		names []string
		want  [][]Column // per target
	}{
		{
			file:  "columns.csv",
			names: []string{"Name", "Team", "column 4", "Team (2)", "Note"},
			want: [][]Column{
				{{"Name", "Ann Example"}, {"Team", "Sales"}, {"column 4", "x"}, {"Team (2)", "EMEA"}, {"Note", "=SUM(A1)"}},
				{{"Name", "Bob"}},
				{{"Team", "Ops"}},
			},
		},
		{
			file:  "columns-noheader.csv",
			names: []string{"column 2", "column 3"},
			want:  [][]Column{{{"column 2", "Ann"}, {"column 3", "Sales"}}, nil},
		},
		{
			file:  "columns-console.csv",
			names: []string{"First name", "Last sign-in"},
			want:  [][]Column{{{"First name", "Ann"}, {"Last sign-in", "2026-01-02"}}, {{"First name", "Bob"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			l, err := Load(func(fn func(Target) error) (Info, error) { return ReadFile(path, Options{}, fn) })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Info().Columns, tt.names) {
				t.Errorf("Info.Columns = %q, want %q", l.Info().Columns, tt.names)
			}
			var got [][]Column
			if _, err := l.Each(func(tg Target) error { got = append(got, tg.Columns); return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("columns = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestColumnsBounded: a huge cell is cut, and no more than MaxColumns
// columns are carried.
func TestColumnsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("email")
	for i := range MaxColumns + 5 {
		fmt.Fprintf(&b, ",c%d", i)
	}
	b.WriteString("\nann@example.org," + strings.Repeat("é", MaxColumnBytes) + "\n")
	var got Target
	info, err := Read(strings.NewReader(b.String()), "wide.csv", Options{}, func(tg Target) error { got = tg; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Columns) != MaxColumns {
		t.Errorf("%d columns named, want %d", len(info.Columns), MaxColumns)
	}
	if len(got.Columns) != 1 || len(got.Columns[0].Value) > MaxColumnBytes || !strings.HasSuffix(got.Columns[0].Value, "…") {
		t.Errorf("huge cell kept as %d bytes", len(got.Columns[0].Value))
	}
}
