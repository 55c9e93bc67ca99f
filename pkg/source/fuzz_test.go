package source

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/invitectl/invitectl/pkg/address"
)

// FuzzRead checks that Read never panics and either fails or yields exactly
// one Target per non-blank data record, on the line where the record
// starts, with strictly increasing rows and consistent reasons, and that
// Load replays exactly that. The oracle is encoding/csv itself, run with the
// delimiter that Read used.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, uint8(0))
		}
	}
	f.Add([]byte("email\r\na@b.co\r\n\r\n\"x\ny\"@b.co\r\n"), uint8(1))
	f.Add([]byte("name\tstate\ncustomers/C1/userinvitations/A@B.co\tINVITED\n"), uint8(2))
	f.Add([]byte("e-mail;action\na@b.co;invite\na@b.co;CANCEL\n"), uint8(3))

	f.Fuzz(func(t *testing.T, data []byte, d uint8) {
		delim := [...]rune{0, ',', '\t', ';'}[d%4]
		var got []Target
		info, err := Read(bytes.NewReader(data), "fuzz.csv", Options{Delimiter: delim}, func(tg Target) error {
			got = append(got, tg)
			return nil
		})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is %T, want *InputError", err, err)
			}
			return
		}
		// What Load keeps replays exactly what Read yielded.
		l, err := Load(func(fn func(Target) error) (Info, error) {
			return Read(bytes.NewReader(data), "fuzz.csv", Options{Delimiter: delim}, fn)
		})
		if err != nil {
			t.Fatalf("Load failed where Read did not: %v", err)
		}
		i := 0
		if _, err := l.Each(func(tg Target) error {
			if i >= len(got) || !reflect.DeepEqual(tg, got[i]) {
				t.Fatalf("replayed target %d = %+v, read %+v", i, tg, got)
			}
			i++
			return nil
		}); err != nil || i != len(got) {
			t.Fatalf("replayed %d of %d targets: %v", i, len(got), err)
		}
		if bytes.HasPrefix(data, bomUTF16LE) || bytes.HasPrefix(data, bomUTF16BE) {
			return // transcoded: the oracle reads bytes as they are
		}
		data = bytes.TrimPrefix(data, bomUTF8)
		if delim == 0 {
			delim = sniffDelimiter(data)
		}
		lines := dataLines(t, data, delim, info.Format == FormatNoHeader)
		if len(got) != len(lines) {
			t.Fatalf("%d targets for %d non-blank data records %v: %+v", len(got), len(lines), lines, got)
		}
		firsts := map[string]int{}
		for i, g := range got {
			if g.Row != lines[i] {
				t.Fatalf("target %d on row %d, record starts on line %d", i, g.Row, lines[i])
			}
			checkReason(t, g, firsts)
		}
	})
}

// dataLines is the start line of every data record that is not blank in
// the header's columns: after the header, or from the first non-blank
// record when there is none.
func dataLines(t *testing.T, data []byte, delim rune, noHeader bool) []int {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = delim != '\t'
	var lines []int
	width := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatalf("Read succeeded where encoding/csv fails: %v", err)
		}
		if width < 0 {
			if isBlank(rec) {
				continue
			}
			width = len(rec)
			if !noHeader {
				continue
			}
		}
		if isBlank(rec[:min(width, len(rec))]) {
			continue
		}
		line, _ := r.FieldPos(0)
		lines = append(lines, line)
	}
}

func checkReason(t *testing.T, g Target, firsts map[string]int) {
	t.Helper()
	switch g.Reason {
	case "":
		if err := address.Validate(g.Email); err != nil {
			t.Fatalf("row %d: valid target with invalid address: %v", g.Row, err)
		}
		if _, ok := firsts[g.Email]; ok {
			t.Fatalf("row %d: %q claimed twice", g.Row, g.Email)
		}
		firsts[g.Email] = g.Row
	case ReasonDuplicate:
		if first, ok := firsts[g.Email]; !ok || first != g.FirstRow || first >= g.Row {
			t.Fatalf("row %d: duplicate of row %d, first valid occurrence %d", g.Row, g.FirstRow, first)
		}
	case ReasonInvalidEmail, ReasonInvalidRow:
		if g.Detail == "" {
			t.Fatalf("row %d: %s without detail", g.Row, g.Reason)
		}
	case ReasonNoAction:
		if g.Action != ActionNone {
			t.Fatalf("row %d: no_action with action %q", g.Row, g.Action)
		}
	default:
		t.Fatalf("row %d: unknown reason %q", g.Row, g.Reason)
	}
	if g.Reason != ReasonInvalidEmail && g.Reason != ReasonInvalidRow && !address.IsKey(g.Email) {
		t.Fatalf("row %d: %q is not normalised", g.Row, g.Email)
	}
	if g.Email != address.Trim(g.Email) {
		t.Fatalf("row %d: %q is not trimmed", g.Row, g.Email)
	}
}
