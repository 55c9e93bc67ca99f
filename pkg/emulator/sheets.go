package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Spreadsheet is a Google Sheet served by the emulated Sheets API
// (spreadsheets.get and spreadsheets.values.get), its tabs in file order.
type Spreadsheet struct {
	Tabs []Tab
}

// Tab is one sheet of a spreadsheet: a title and its cell values by row.
type Tab struct {
	Title  string
	Values [][]string
}

// UnmarshalJSON reads {"Sheet1": [["email"], ["a@example.com"]], ...},
// keeping the order of the tabs (the first one is the default range).
func (sp *Spreadsheet) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("a spreadsheet is an object of sheet titles to rows")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var tab Tab
		tab.Title = t.(string)
		if err := dec.Decode(&tab.Values); err != nil {
			return fmt.Errorf("sheet %q: %w", tab.Title, err)
		}
		sp.Tabs = append(sp.Tabs, tab)
	}
	_, err := dec.Token()
	return err
}

// MarshalJSON writes the form UnmarshalJSON reads.
func (sp Spreadsheet) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, t := range sp.Tabs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(t.Title)
		v, err := json.Marshal(t.Values)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// serveSheets answers GET /v4/spreadsheets/{id} and
// GET /v4/spreadsheets/{id}/values/{range}.
func (s *Server) serveSheets(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "INVALID_ARGUMENT", "only GET is served for spreadsheets")
		return
	}
	if !s.authorize(w, r, false, ScopeSheetsReadOnly, "https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.readonly") {
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/v4/spreadsheets/")
	id, rng, hasRange := strings.Cut(rest, "/values/")
	s.mu.Lock()
	sheet, ok := s.world.Sheets[id]
	s.mu.Unlock()
	if !ok || strings.Contains(id, "/") {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return
	}
	if !hasRange {
		type props struct {
			SheetID int    `json:"sheetId"`
			Title   string `json:"title"`
			Index   int    `json:"index"`
		}
		type sheetMeta struct {
			Properties props `json:"properties"`
		}
		meta := struct {
			SpreadsheetID string      `json:"spreadsheetId"`
			Sheets        []sheetMeta `json:"sheets"`
		}{SpreadsheetID: id}
		for i, t := range sheet.Tabs {
			meta.Sheets = append(meta.Sheets, sheetMeta{props{SheetID: i, Title: t.Title, Index: i}})
		}
		writeJSON(w, http.StatusOK, meta)
		return
	}
	titles := make([]string, len(sheet.Tabs))
	for i, t := range sheet.Tabs {
		titles[i] = t.Title
	}
	a1, err := parseA1(rng, titles)
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("Unable to parse range: %s", rng))
		return
	}
	tab := sheet.Tabs[0]
	if a1.sheet != "" {
		found := false
		for _, t := range sheet.Tabs {
			if t.Title == a1.sheet {
				tab, found = t, true
			}
		}
		if !found {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("Unable to parse range: %s", rng))
			return
		}
	}
	writeJSON(w, http.StatusOK, a1.values(tab))
}

// a1 is a parsed A1 range; zero bounds are open.
type a1 struct {
	sheet                  string
	col0, row0, col1, row1 int // 1-based, inclusive; 0 = unbounded
}

var cellRE = regexp.MustCompile(`^([A-Za-z]*)([0-9]*)$`)

func parseA1(s string, titles []string) (a1, error) {
	var r a1
	cells := s
	if i := strings.LastIndex(s, "!"); i >= 0 {
		r.sheet, cells = s[:i], s[i+1:]
		if len(r.sheet) >= 2 && r.sheet[0] == '\'' && r.sheet[len(r.sheet)-1] == '\'' {
			r.sheet = strings.ReplaceAll(r.sheet[1:len(r.sheet)-1], "''", "'")
		}
	} else if slices.Contains(titles, strings.Trim(s, "'")) {
		// As in Sheets, a range that names a sheet means the whole sheet,
		// even when it also reads as a cell ("Q1").
		r.sheet, cells = strings.Trim(s, "'"), ""
	}
	if cells == "" {
		return r, nil
	}
	from, to, _ := strings.Cut(cells, ":")
	if to == "" {
		to = from
	}
	var err error
	if r.col0, r.row0, err = parseCell(from); err != nil {
		return r, err
	}
	if r.col1, r.row1, err = parseCell(to); err != nil {
		return r, err
	}
	return r, nil
}

func parseCell(s string) (col, row int, err error) {
	m := cellRE.FindStringSubmatch(s)
	if m == nil || s == "" {
		return 0, 0, fmt.Errorf("bad cell %q", s)
	}
	for _, c := range strings.ToUpper(m[1]) {
		col = col*26 + int(c-'A'+1)
	}
	if m[2] != "" {
		row, _ = strconv.Atoi(m[2])
	}
	return col, row, nil
}

type valueRange struct {
	Range          string     `json:"range"`
	MajorDimension string     `json:"majorDimension"`
	Values         [][]string `json:"values,omitempty"`
}

// values cuts the range out of the tab the way Sheets does: trailing empty
// cells and rows are dropped.
func (r a1) values(t Tab) valueRange {
	row0, col0 := max(r.row0, 1), max(r.col0, 1)
	row1 := len(t.Values)
	if r.row1 > 0 {
		row1 = min(r.row1, row1)
	}
	var out [][]string
	for i := row0; i <= row1; i++ {
		src := t.Values[i-1]
		col1 := len(src)
		if r.col1 > 0 {
			col1 = min(r.col1, col1)
		}
		row := []string{}
		if col0 <= col1 {
			row = append(row, src[col0-1:col1]...)
		}
		for len(row) > 0 && row[len(row)-1] == "" {
			row = row[:len(row)-1]
		}
		out = append(out, row)
	}
	for len(out) > 0 && len(out[len(out)-1]) == 0 {
		out = out[:len(out)-1]
	}
	name := "'" + strings.ReplaceAll(t.Title, "'", "''") + "'"
	return valueRange{
		Range:          fmt.Sprintf("%s!%s%d:%s%d", name, colName(col0), row0, colName(max(r.col1, width(t))), max(row0, row0+len(out)-1)),
		MajorDimension: "ROWS",
		Values:         out,
	}
}

func width(t Tab) int {
	w := 1
	for _, r := range t.Values {
		w = max(w, len(r))
	}
	return w
}

func colName(c int) string {
	var b []byte
	for c > 0 {
		c--
		b = append([]byte{byte('A' + c%26)}, b...)
		c /= 26
	}
	return string(b)
}
