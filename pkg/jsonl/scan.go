package jsonl

import (
	"bytes"
	"unicode/utf8"
)

// Scanner decodes one JSON object of the shape invitectl writes: compact
// (nothing between tokens), strings without escapes, integers without a
// fraction or an exponent. It is strict: anything else, or anything its
// caller does not expect (an unknown key, a repeated one, a value of
// another type), makes it fail, and the caller then decodes the line with
// encoding/json, which decides exactly as it always has. So a line the
// Scanner accepts is valid JSON that encoding/json decodes to the same
// values.
//
// A failure is sticky: after one, every method returns a zero value and Done
// reports false. The byte slices it returns point into the line.
//
//	s := jsonl.NewScanner(line)
//	for s.Object(); s.Next(); {
//		switch string(s.Key()) {
//		case "row":
//			row = s.Int()
//		default:
//			s.Fail()
//		}
//	}
//	if !s.Done() { ... decode with encoding/json ... }
type Scanner struct {
	b     []byte
	i     int
	key   []byte
	first bool // Object just opened: no comma before the next key
	bad   bool
}

// NewScanner scans line.
func NewScanner(line []byte) Scanner { return Scanner{b: line} }

// Fail marks the line as one the Scanner cannot decode.
func (s *Scanner) Fail() { s.bad = true }

// Once sets bit, a key's, in seen, and fails the line when it was set
// already: a key given twice.
func (s *Scanner) Once(seen *int, bit int) {
	if *seen&bit != 0 {
		s.Fail()
	}
	*seen |= bit
}

// Intern returns b as a string, the same one each time while m has room:
// the values of a file that repeat (states, reasons, messages) are kept
// once.
func Intern[B []byte | string](m map[string]string, b B) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(m) < 256 {
		m[s] = s
	}
	return s
}

// Done reports whether the whole line was decoded: no failure, and nothing
// after the object.
func (s *Scanner) Done() bool { return !s.bad && s.i == len(s.b) }

// Object opens an object, whose keys Next then reads.
func (s *Scanner) Object() {
	if !s.byte('{') {
		return
	}
	s.first = true
}

// Next reads the next key of the innermost open object and reports true, or
// closes the object and reports false.
func (s *Scanner) Next() bool {
	if s.bad || s.i >= len(s.b) {
		s.bad = true
		return false
	}
	if s.b[s.i] == '}' {
		s.i++
		s.first = false
		return false
	}
	if !s.first && !s.byte(',') {
		return false
	}
	s.first = false
	s.key = s.str()
	return s.byte(':')
}

// Key is the key Next read.
func (s *Scanner) Key() []byte { return s.key }

// Bytes reads a string value and returns its content.
func (s *Scanner) Bytes() []byte { return s.str() }

// Quoted reads a string value and returns it with its quotes, as an
// UnmarshalJSON method wants it.
func (s *Scanner) Quoted() []byte {
	start := s.i
	if s.str(); s.bad {
		return nil
	}
	return s.b[start:s.i]
}

// Int reads an integer of at most 18 digits, which int64 holds.
func (s *Scanner) Int() int64 {
	if s.bad || s.i >= len(s.b) {
		s.bad = true
		return 0
	}
	neg := s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var v int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		v = v*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	switch n := s.i - start; {
	case n == 0, n > 18, n > 1 && s.b[start] == '0':
		s.bad = true
		return 0
	}
	if neg {
		v = -v
	}
	return v
}

// Bool reads true or false.
func (s *Scanner) Bool() bool {
	switch {
	case s.literal("true"):
		return true
	case s.literal("false"):
		return false
	}
	s.bad = true
	return false
}

// Null reads null and reports true, or reports false and reads nothing.
func (s *Scanner) Null() bool { return s.literal("null") }

func (s *Scanner) literal(lit string) bool {
	if s.bad || !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *Scanner) byte(c byte) bool {
	if s.bad || s.i >= len(s.b) || s.b[s.i] != c {
		s.bad = true
		return false
	}
	s.i++
	return true
}

// str reads a string without escapes or control characters, in valid
// UTF-8 (encoding/json would replace invalid bytes), and returns its
// content.
func (s *Scanner) str() []byte {
	if !s.byte('"') {
		return nil
	}
	start := s.i
	ascii := true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				s.bad = true
				return nil
			}
			return v
		case c == '\\', c < 0x20:
			s.bad = true
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	s.bad = true
	return nil
}
