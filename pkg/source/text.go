package source

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings that Options.Encoding accepts.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252" // Excel's plain "CSV" on Windows in Western Europe and the Americas
	EncodingISO88591    = "iso-8859-1"
	EncodingUTF16LE     = "utf-16le" // Excel's "Unicode Text" has a byte-order mark and needs no flag
	EncodingUTF16BE     = "utf-16be"
)

// Encodings lists the values Options.Encoding accepts, besides "".
var Encodings = []string{EncodingUTF8, EncodingWindows1252, EncodingISO88591, EncodingUTF16LE, EncodingUTF16BE}

const encodingHint = "save the file as CSV UTF-8, or pass --encoding windows-1252 (Excel's \"CSV\"), iso-8859-1, utf-16le or utf-16be"

var (
	bomUTF8    = []byte("\xEF\xBB\xBF")
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// bufSize is the read buffer; the delimiter is sniffed from its first fill.
const bufSize = 64 << 10

// openText returns r as checked UTF-8 text: the encoding decided (enc, or
// from a byte-order mark), transcoded, and every byte passed through a
// textGuard. Nothing is yielded for an input rejected here.
func openText(r io.Reader, name, enc string) (*bufio.Reader, error) {
	raw := bufio.NewReaderSize(r, bufSize)
	head, err := raw.Peek(8)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, &InputError{Path: name, Err: pathCause(err)}
	}
	if len(head) == 0 {
		return nil, &InputError{Path: name, Problem: "empty file"}
	}
	if problem := notText(head); problem != "" {
		return nil, &InputError{Path: name, Problem: problem}
	}
	dec, bom, err := decoderFor(head, name, enc)
	if err != nil {
		return nil, err
	}
	_, _ = raw.Discard(bom) // peeked, so it cannot fail
	var t transform.Transformer = newGuard(name, dec != nil)
	if dec != nil {
		t = transform.Chain(dec, t)
	}
	return bufio.NewReaderSize(transform.NewReader(raw, t), bufSize), nil
}

// notText names the formats that are recognised by their first bytes and
// are never CSV.
func notText(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "a ZIP archive (an .xlsx or .ods workbook?), not CSV; export the sheet as CSV UTF-8"
	case bytes.HasPrefix(head, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return "an Excel 97-2003 workbook (.xls), not CSV; export the sheet as CSV UTF-8"
	}
	return ""
}

// decoderFor picks the transcoding of an input from enc and its byte-order
// mark, and says how many bytes of mark to drop. A nil decoder means UTF-8.
func decoderFor(head []byte, name, enc string) (*encoding.Decoder, int, error) {
	var bom string
	n := 0
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		bom, n = EncodingUTF8, len(bomUTF8)
	case bytes.HasPrefix(head, bomUTF16LE):
		bom, n = EncodingUTF16LE, len(bomUTF16LE)
	case bytes.HasPrefix(head, bomUTF16BE):
		bom, n = EncodingUTF16BE, len(bomUTF16BE)
	}
	switch e := strings.ToLower(enc); e {
	case "":
		if bom == "" {
			return nil, 0, nil
		}
		return decoderOf(bom), n, nil
	case EncodingUTF8, EncodingWindows1252, EncodingISO88591, EncodingUTF16LE, EncodingUTF16BE:
		if bom != "" && bom != e {
			return nil, 0, &InputError{Path: name,
				Problem: fmt.Sprintf("the file starts with the byte-order mark of %s, not %s: drop --encoding", bom, e)}
		}
		return decoderOf(e), n, nil
	}
	return nil, 0, &InputError{Path: name,
		Problem: fmt.Sprintf("unknown encoding %q (want %s)", enc, strings.Join(Encodings, ", "))}
}

func decoderOf(enc string) *encoding.Decoder {
	switch enc {
	case EncodingWindows1252:
		return charmap.Windows1252.NewDecoder()
	case EncodingISO88591:
		return charmap.ISO8859_1.NewDecoder()
	case EncodingUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case EncodingUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	}
	return nil // UTF-8: checked as it is, never transcoded
}

// textGuard passes text through unchanged and stops it, with the line, at
// the first byte that cannot be in a campaign file: one that is not UTF-8, a
// NUL, or one that makes a record longer than MaxRecordBytes. It follows
// quotes as encoding/csv does (a record ends at a newline outside quotes), so
// that an unbalanced quote is caught within one record's length rather than
// at the end of the file. It sees every byte, so the whole file is checked,
// not a prefix.
type textGuard struct {
	name       string
	transcoded bool  // the input was decoded from another encoding
	off        int64 // offset of the next byte
	line       int   // line of the next byte, from 1
	recStart   int64 // offset where the current record starts
	recLine    int
	inQuote    bool
}

func newGuard(name string, transcoded bool) *textGuard {
	g := &textGuard{name: name, transcoded: transcoded}
	g.Reset()
	return g
}

// Reset implements transform.Transformer.
func (g *textGuard) Reset() {
	g.off, g.line, g.recStart, g.recLine, g.inQuote = 0, 1, 0, 1, false
}

// Transform implements transform.Transformer: it copies what it checked.
func (g *textGuard) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	n := min(len(dst), len(src))
	i := 0
	for i < n {
		c := src[i]
		if c < utf8.RuneSelf {
			switch c {
			case '\n':
				g.line++
				if g.line > MaxLines {
					err = g.tooManyLines()
					break
				}
				if !g.inQuote {
					g.recStart, g.recLine = g.off+int64(i)+1, g.line
				}
			case '"':
				g.inQuote = !g.inQuote
			case 0:
				err = g.binary()
			}
			if err != nil {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			if !atEOF && !utf8.FullRune(src[i:]) {
				err = transform.ErrShortSrc // the rest of the character is in the next read
			} else {
				err = g.notUTF8(src[i])
			}
			break
		}
		if i+size > n {
			err = transform.ErrShortDst
			break
		}
		i += size
	}
	copy(dst, src[:i])
	g.off += int64(i)
	if err == nil && g.off-g.recStart > MaxRecordBytes {
		err = g.tooLong()
	}
	if err == nil && i < len(src) {
		err = transform.ErrShortDst
	}
	return i, i, err
}

func (g *textGuard) binary() error {
	problem := "binary content (a NUL byte), not a CSV or TSV file"
	if !g.transcoded {
		problem += " (UTF-16 without a byte-order mark? pass --encoding utf-16le or utf-16be)"
	}
	return &InputError{Path: g.name, Line: g.line, Problem: problem}
}

func (g *textGuard) notUTF8(b byte) error {
	return &InputError{Path: g.name, Line: g.line,
		Problem: fmt.Sprintf("not UTF-8 text (byte 0x%02x); %s", b, encodingHint)}
}

func (g *textGuard) tooManyLines() error {
	return &InputError{Path: g.name, Line: g.line,
		Problem: fmt.Sprintf("more than %d lines: not a campaign invitectl can run", MaxLines)}
}

func (g *textGuard) tooLong() error {
	if g.inQuote {
		return &InputError{Path: g.name, Line: g.recLine,
			Problem: fmt.Sprintf("a record that starts here is still inside a quoted field after %d MiB: an unbalanced quote? Not a campaign file", MaxRecordBytes>>20)}
	}
	return &InputError{Path: g.name, Line: g.recLine,
		Problem: fmt.Sprintf("a line longer than %d MiB: not a campaign file", MaxRecordBytes>>20)}
}
