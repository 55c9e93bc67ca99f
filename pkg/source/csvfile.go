package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

const (
	peekSize  = 64 << 10 // enough for the header line of any real campaign file
	sniffSize = 1 << 10  // the prefix checked for binary content
)

const utf8BOM = "\xEF\xBB\xBF"

// csvRecords is the record stream of a CSV or TSV file.
type csvRecords struct {
	r    *csv.Reader
	name string
}

func (c *csvRecords) next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, c.inputError(err)
	}
	line, _ := c.r.FieldPos(0)
	return rec, line, nil
}

// inputError turns a csv.Reader error into an InputError on the line where
// the problem is. A quote left open is reported on the line of the record
// that opened it: the reader only notices at the end of the file.
func (c *csvRecords) inputError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &InputError{Path: c.name, Problem: "read", Err: err}
	}
	if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
		return &InputError{Path: c.name, Line: pe.StartLine,
			Problem: fmt.Sprintf("quoted field in this record is still open at line %d", pe.Line), Err: pe.Err}
	}
	return &InputError{Path: c.name, Line: pe.Line, Err: pe.Err}
}

// openCSV checks that r looks like delimited text, drops a UTF-8 BOM, picks
// the delimiter and returns the record stream and its format ("csv" or
// "tsv"). Nothing is yielded for an input rejected here.
func openCSV(r io.Reader, name string, delim rune) (*csvRecords, string, error) {
	br := bufio.NewReaderSize(r, peekSize)
	head, err := br.Peek(peekSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", &InputError{Path: name, Err: pathCause(err)}
	}
	if len(head) == 0 {
		return nil, "", &InputError{Path: name, Problem: "empty file"}
	}
	if err := checkText(head, err == nil || err == bufio.ErrBufferFull, name); err != nil {
		return nil, "", err
	}
	if bytes.HasPrefix(head, []byte(utf8BOM)) {
		_, _ = br.Discard(len(utf8BOM)) // peeked, so it cannot fail
		head = head[len(utf8BOM):]
	}
	if delim == 0 {
		delim = sniffDelimiter(head)
	} else if !validDelimiter(delim) {
		return nil, "", &InputError{Path: name, Problem: fmt.Sprintf("invalid delimiter %q", delim)}
	}

	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // ragged rows are normal in spreadsheet downloads
	cr.ReuseRecord = true   // the pipeline copies what it keeps
	// `a, "b, c"` is common in hand-written files; with a white-space
	// delimiter this would also swallow empty fields, so only for the others.
	cr.TrimLeadingSpace = delim != '\t' && delim != ' '
	format := FormatCSV
	if delim == '\t' {
		format = FormatTSV
	}
	return &csvRecords{r: cr, name: name}, format, nil
}

// checkText rejects content that is not UTF-8 text in the first KB. cut says
// head may end in the middle of a character.
func checkText(head []byte, cut bool, name string) error {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return &InputError{Path: name, Problem: "a ZIP archive (an .xlsx or .ods workbook?), not CSV; export the sheet as CSV"}
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return &InputError{Path: name, Problem: "UTF-16 text; save the file as CSV UTF-8"}
	}
	if len(head) > sniffSize {
		head, cut = head[:sniffSize], true
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return &InputError{Path: name, Line: lineAt(head, i),
			Problem: "binary content (NUL byte), not a CSV or TSV file"}
	}
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 {
			if cut && !utf8.FullRune(head[i:]) {
				break // the character continues past the sniffed prefix
			}
			return &InputError{Path: name, Line: lineAt(head, i),
				Problem: fmt.Sprintf("not UTF-8 text (byte 0x%02x); save the file as CSV UTF-8", head[i])}
		}
		i += size
	}
	return nil
}

func lineAt(b []byte, off int) int { return bytes.Count(b[:off], []byte{'\n'}) + 1 }

// sniffDelimiter picks the most frequent of comma, tab and semicolon outside
// quotes on the first non-blank line (the header); comma when there is none,
// as in a one-column file.
func sniffDelimiter(head []byte) rune {
	candidates := [...]rune{',', '\t', ';'}
	var counts [len(candidates)]int
	inQuote, blank := false, true
scan:
	for _, c := range head {
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '\n':
			if !blank {
				break scan
			}
			counts = [len(candidates)]int{}
		case c == ',':
			counts[0]++
		case c == '\t':
			counts[1]++
		case c == ';':
			counts[2]++
		}
		if c != ' ' && c != '\r' && c != '\n' && c != '\t' {
			blank = false
		}
	}
	best := 0
	for i := range counts {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return candidates[best]
}

// validDelimiter mirrors encoding/csv's rule, so a bad --delimiter is an
// input error before reading rather than an error on line 1.
func validDelimiter(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}
