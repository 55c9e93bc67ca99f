package source

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
)

// newCSVReader is the one configuration of encoding/csv for inputs.
func newCSVReader(r io.Reader, delim rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // ragged rows are normal in spreadsheet downloads
	cr.ReuseRecord = true   // what is kept is copied
	// `a, "b, c"` is common in hand-written files; with a white-space
	// delimiter this would also swallow empty fields, so only for the others.
	cr.TrimLeadingSpace = delim != '\t' && delim != ' '
	return cr
}

// csvRecords is the record stream of a CSV or TSV file, as the header
// detection reads it.
type csvRecords struct {
	r    *csv.Reader
	name string
	end  int // line where the last record read ends
}

func (c *csvRecords) next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, csvError(err, c.name, 0)
	}
	line, _ := c.r.FieldPos(0)
	// A record ends on the line after the last of the newlines inside its
	// quoted fields (encoding/csv turns CRLF there into LF).
	c.end = line
	for _, cell := range rec {
		c.end += strings.Count(cell, "\n")
	}
	return rec, line, nil
}

// csvError turns an error of encoding/csv into an InputError on the line
// where the problem is, base lines further down. A quote left open is
// reported on the line of the record that opened it: the reader only
// notices at the end of the file. Errors of the text guard pass as they
// are.
func csvError(err error, name string, base int) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &InputError{Path: name, Problem: "read", Err: err}
	}
	if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
		return &InputError{Path: name, Line: base + pe.StartLine,
			Problem: fmt.Sprintf("quoted field in this record is still open at line %d", base+pe.Line), Err: pe.Err}
	}
	return &InputError{Path: name, Line: base + pe.Line, Err: pe.Err}
}

// readCSV is the pipeline of a file: the delimiter, the header and the
// shape it reveals, then one Target per non-blank record to fn. It returns
// the number of targets yielded, the input's format and the names of its
// other columns.
func readCSV(text *bufio.Reader, name string, opts Options, fn func(Target) error) (int, string, []string, error) {
	delim := opts.Delimiter
	if delim == 0 {
		head, _ := text.Peek(bufSize) // a guard error here recurs when the header is read
		delim = sniffDelimiter(head)
	} else if !validDelimiter(delim) {
		return 0, "", nil, &InputError{Path: name, Problem: fmt.Sprintf("invalid delimiter %q", delim)}
	}
	format := FormatCSV
	if delim == '\t' {
		format = FormatTSV
	}

	// The header is read by a reader of its own: csv.Reader takes text, a
	// *bufio.Reader, as it is and reads it line by line, so the rows start
	// right after what it read.
	head := &csvRecords{r: newCSVReader(text, delim), name: name}
	lay, pending, err := readHeader(head, name, opts)
	if err != nil {
		return 0, format, nil, err
	}
	if lay.format != "" {
		format = lay.format
	}
	b := newBuilder(lay, name)
	for _, p := range pending {
		if err := b.emit(lay.project(p.cells), p.line, fn); err != nil {
			return b.rows, format, lay.restNames, err
		}
	}

	// gocsv reads its header from the stream it decodes; the file's was
	// read above, so it is given the shape's names for those columns.
	header := strings.Join(lay.tags(), string(delim)) + "\n"
	rows := newCSVReader(io.MultiReader(strings.NewReader(header), text), delim)
	base := head.end - 1 // line of the file = line of rows + base
	switch lay.format {
	case FormatGAM:
		err = decodeRows[gamRow](rows, lay, base, b, fn)
	case FormatAdminConsole:
		err = decodeRows[consoleRow](rows, lay, base, b, fn)
	default:
		err = decodeRows[plainRow](rows, lay, base, b, fn)
	}
	return b.rows, format, lay.restNames, err
}

// decodeRows decodes the records of cr as typed rows of shape R and gives
// each non-blank one to the builder.
func decodeRows[R any, P interface {
	*R
	shape
}](cr *csv.Reader, lay layout, base int, b *builder, fn func(Target) error) error {
	um, err := gocsv.NewUnmarshaller(cr, P(new(R)))
	if err != nil {
		return csvError(err, b.name, base)
	}
	// The names are ours; renaming keeps a process-wide gocsv header
	// normaliser, if any code set one, from changing them.
	if err := um.RenormalizeHeaders(func([]string) []string { return lay.tags() }); err != nil {
		return fmt.Errorf("read %s: %w", b.name, err)
	}
	for {
		v, err := um.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err, b.name, base)
		}
		line, _ := cr.FieldPos(0)
		if err := b.emit(v.(P), base+line, fn); err != nil {
			return err
		}
	}
}

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
