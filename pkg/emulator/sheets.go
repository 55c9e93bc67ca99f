package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/invitectl/invitectl/pkg/scope"
)

// Spreadsheet is a Google Sheet of the world file, served by the emulated
// Sheets API, its tabs in file order.
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

// sheetDoc is a spreadsheet as the emulator holds it while it runs: the
// world's, or one created through the API.
type sheetDoc struct {
	title string
	owner string // who created it through the API; "" for the world's
	tabs  []*sheetTab
}

// sheetTab is one sheet with its grid size, which writes cannot exceed.
type sheetTab struct {
	Tab
	id         int64
	rows, cols int
}

// New sheets have Google's default grid, and a spreadsheet holds at most
// ten million cells.
const (
	defaultRows = 1000
	defaultCols = 26
	maxCells    = 10_000_000
)

func newSheetDoc(sp Spreadsheet) *sheetDoc {
	d := &sheetDoc{}
	for i, t := range sp.Tabs {
		vals := make([][]string, len(t.Values))
		for r, row := range t.Values {
			vals[r] = slices.Clone(row)
		}
		d.tabs = append(d.tabs, &sheetTab{Tab: Tab{Title: t.Title, Values: vals}, id: int64(i),
			rows: max(defaultRows, len(vals)), cols: max(defaultCols, width(t))})
	}
	return d
}

func (d *sheetDoc) titles() []string {
	out := make([]string, len(d.tabs))
	for i, t := range d.tabs {
		out[i] = t.Title
	}
	return out
}

// tab finds the sheet a parsed range names; "" is the first.
func (d *sheetDoc) tab(title string) *sheetTab {
	if title == "" {
		return d.tabs[0]
	}
	for _, t := range d.tabs {
		if t.Title == title {
			return t
		}
	}
	return nil
}

// The scopes of the Sheets calls. drive.file reaches only the spreadsheets
// the same caller created through the API.
var (
	sheetsWriteScopes = []string{scope.Spreadsheets, scope.Drive, scope.DriveFile}
	sheetsReadScopes  = []string{scope.Spreadsheets, scope.Drive, scope.DriveFile, scope.SheetsReadOnly, scope.DriveReadOnly}
)

// serveSheets serves the Sheets calls invitectl makes: spreadsheets.create
// (POST /v4/spreadsheets), spreadsheets.get (GET /v4/spreadsheets/{id}),
// and spreadsheets.values.get and .update (GET and PUT
// /v4/spreadsheets/{id}/values/{range}).
func (s *Server) serveSheets(w http.ResponseWriter, r *http.Request) {
	rest, _ := strings.CutPrefix(r.URL.EscapedPath(), "/v4/spreadsheets")
	rest = strings.TrimPrefix(rest, "/")
	id, rawRange, hasRange := strings.Cut(rest, "/values/")
	write := r.Method != http.MethodGet
	scopes := sheetsReadScopes
	if write {
		scopes = sheetsWriteScopes
	}
	g, ok := s.authorize(w, r, false, scopes...)
	if !ok {
		return
	}
	switch {
	case rest == "" && r.Method == http.MethodPost:
		s.createSheet(w, r, g)
		return
	case rest == "" || strings.ContainsAny(id, "/:") || hasRange && strings.Contains(rawRange, ":append") || hasRange && strings.HasSuffix(rawRange, ":clear"):
		writeError(w, http.StatusNotImplemented, "UNIMPLEMENTED", "The emulator serves spreadsheets.create, spreadsheets.get, spreadsheets.values.get and spreadsheets.values.update only.")
		return
	case !hasRange && r.Method != http.MethodGet, hasRange && r.Method != http.MethodGet && r.Method != http.MethodPut:
		writeError(w, http.StatusMethodNotAllowed, "INVALID_ARGUMENT", fmt.Sprintf("method %s is not served for %s", r.Method, r.URL.Path))
		return
	}
	id, _ = url.PathUnescape(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.sheets[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return
	}
	if s.auth != nil && s.auth.cfg.Require && !s.mayOpen(g, doc, write) {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission")
		return
	}
	if !hasRange {
		writeJSON(w, http.StatusOK, s.sheetJSON(r, id, doc))
		return
	}
	rng, err := url.PathUnescape(rawRange)
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Unable to parse range: "+rawRange)
		return
	}
	a1, err := parseA1(rng, doc.titles())
	tab := doc.tab(a1.sheet)
	if err != nil || tab == nil {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Unable to parse range: "+rng)
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, a1.values(tab.Tab))
		return
	}
	code, body := updateValues(r, id, rng, a1, tab)
	writeJSON(w, code, body)
}

// mayOpen reports whether a token may read (or write) a spreadsheet: a
// broad scope reaches every spreadsheet, drive.file only those its caller
// created. The caller holds s.mu.
func (s *Server) mayOpen(g grant, doc *sheetDoc, write bool) bool {
	broad := []string{scope.Spreadsheets, scope.Drive}
	if !write {
		broad = append(broad, scope.SheetsReadOnly, scope.DriveReadOnly)
	}
	for _, sc := range g.scopes {
		if slices.Contains(broad, sc) {
			return true
		}
	}
	return doc.owner != "" && doc.owner == g.who()
}

type gridProps struct {
	RowCount    int `json:"rowCount"`
	ColumnCount int `json:"columnCount"`
}

type sheetProps struct {
	SheetID        int64     `json:"sheetId"`
	Title          string    `json:"title"`
	Index          int       `json:"index"`
	SheetType      string    `json:"sheetType"`
	GridProperties gridProps `json:"gridProperties"`
}

type sheetMeta struct {
	Properties sheetProps `json:"properties"`
}

type spreadsheetJSON struct {
	SpreadsheetID string `json:"spreadsheetId"`
	Properties    struct {
		Title    string `json:"title"`
		Locale   string `json:"locale"`
		TimeZone string `json:"timeZone"`
	} `json:"properties"`
	Sheets         []sheetMeta `json:"sheets"`
	SpreadsheetURL string      `json:"spreadsheetUrl"`
}

// sheetJSON is the Spreadsheet resource; its URL points at the emulator's
// own page for it.
func (s *Server) sheetJSON(r *http.Request, id string, doc *sheetDoc) spreadsheetJSON {
	out := spreadsheetJSON{SpreadsheetID: id, SpreadsheetURL: "http://" + r.Host + "/spreadsheets/d/" + id + "/edit"}
	out.Properties.Title, out.Properties.Locale, out.Properties.TimeZone = doc.title, "en_US", "Etc/GMT"
	for i, t := range doc.tabs {
		out.Sheets = append(out.Sheets, sheetMeta{sheetProps{SheetID: t.id, Title: t.Title, Index: i, SheetType: "GRID",
			GridProperties: gridProps{RowCount: t.rows, ColumnCount: t.cols}}})
	}
	return out
}

// createSheet is spreadsheets.create: the title, and the sheets with their
// titles and grid sizes (default one "Sheet1" of 1000 rows and 26
// columns). The caller owns the new spreadsheet.
func (s *Server) createSheet(w http.ResponseWriter, r *http.Request, g grant) {
	var req struct {
		Properties struct {
			Title string `json:"title"`
		} `json:"properties"`
		Sheets []sheetMeta `json:"sheets"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	if len(req.Sheets) == 0 {
		req.Sheets = []sheetMeta{{}}
	}
	doc := &sheetDoc{title: req.Properties.Title, owner: g.who()}
	if doc.title == "" {
		doc.title = "Untitled spreadsheet"
	}
	cells := 0
	for i, sm := range req.Sheets {
		p := sm.Properties
		t := &sheetTab{Tab: Tab{Title: p.Title}, id: p.SheetID, rows: p.GridProperties.RowCount, cols: p.GridProperties.ColumnCount}
		if t.Title == "" {
			t.Title = fmt.Sprintf("Sheet%d", i+1)
		}
		if t.rows <= 0 {
			t.rows = defaultRows
		}
		if t.cols <= 0 {
			t.cols = defaultCols
		}
		if i > 0 && t.id == 0 {
			t.id = int64(i) * 1_000_003 // Sheets draws these; any distinct number will do
		}
		if slices.Contains(doc.titles(), t.Title) {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
				fmt.Sprintf("Invalid requests[%d].addSheet: A sheet with the name \"%s\" already exists. Please enter another name.", i, t.Title))
			return
		}
		cells += t.rows * t.cols
		doc.tabs = append(doc.tabs, t)
	}
	if cells > maxCells {
		writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("This action would increase the number of cells in the workbook above the limit of %d cells.", maxCells))
		return
	}
	id := spreadsheetID()
	s.mu.Lock()
	s.sheets[id] = doc
	body := s.sheetJSON(r, id, doc)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func spreadsheetID() string {
	b := make([]byte, 33)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // 44 characters, as Sheets' IDs
}

// updateValues is spreadsheets.values.update with valueInputOption RAW:
// strings are stored as given (a cell "=1+2@example.org" stays text),
// numbers and booleans as Sheets shows them, null cells are left alone.
// USER_ENTERED, which parses formulas, is refused: the emulator does not
// evaluate them, and invitectl must not ask for it. Writes may not pass a
// bounded range's end or the grid. The caller holds s.mu.
func updateValues(r *http.Request, id, rng string, a a1, tab *sheetTab) (int, any) {
	switch opt := r.URL.Query().Get("valueInputOption"); opt {
	case "RAW":
	case "":
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", "'valueInputOption' is required but not specified")
	case "USER_ENTERED":
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			"The emulator does not model valueInputOption USER_ENTERED (Sheets would parse formulas and numbers); write RAW.")
	default:
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), %q", opt))
	}
	var body struct {
		Range          string  `json:"range"`
		MajorDimension string  `json:"majorDimension"`
		Values         [][]any `json:"values"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
	}
	if body.Range != "" && body.Range != rng {
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Requested range [%s] must match the range of the values in the body [%s].", rng, body.Range))
	}
	cells, err := rawCells(body.Values)
	if err != nil {
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
	}
	switch body.MajorDimension {
	case "", "ROWS":
	case "COLUMNS":
		cells = transpose(cells)
	default:
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Invalid value at 'data.major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), %q", body.MajorDimension))
	}
	row0, col0 := max(a.row0, 1), max(a.col0, 1)
	nrows, ncols := len(cells), 0
	for _, row := range cells {
		ncols = max(ncols, len(row))
	}
	lastRow, lastCol := row0+nrows-1, col0+ncols-1
	name := quoteSheet(tab.Title)
	// A single cell is where the values start; a larger range bounds them.
	single := a.row0 == a.row1 && a.col0 == a.col1
	if !single && a.row1 > 0 && lastRow > a.row1 {
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Requested writing within range [%s], but tried writing to row [%d]", rng, a.row1+1))
	}
	if !single && a.col1 > 0 && lastCol > a.col1 {
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Requested writing within range [%s], but tried writing to column [%s]", rng, colName(a.col1+1)))
	}
	if lastCol > tab.cols || lastRow > tab.rows {
		cell := fmt.Sprintf("%s%d", colName(tab.cols+1), row0)
		if lastCol <= tab.cols {
			cell = fmt.Sprintf("%s%d", colName(col0), tab.rows+1)
		}
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Range (%s!%s) exceeds grid limits. Max rows: %d, max columns: %d", name, cell, tab.rows, tab.cols))
	}
	updated := 0
	for i, row := range cells {
		for j, c := range row {
			if c == nil {
				continue
			}
			tab.set(row0+i, col0+j, *c)
			updated++
		}
	}
	resp := struct {
		SpreadsheetID  string `json:"spreadsheetId"`
		UpdatedRange   string `json:"updatedRange"`
		UpdatedRows    int    `json:"updatedRows,omitempty"`
		UpdatedColumns int    `json:"updatedColumns,omitempty"`
		UpdatedCells   int    `json:"updatedCells,omitempty"`
	}{SpreadsheetID: id, UpdatedRange: fmt.Sprintf("%s!%s%d:%s%d", name, colName(col0), row0, colName(max(lastCol, col0)), max(lastRow, row0))}
	if updated > 0 {
		resp.UpdatedRows, resp.UpdatedColumns, resp.UpdatedCells = nrows, ncols, updated
	}
	return http.StatusOK, resp
}

// rawCells turns JSON values into cells as RAW input stores them; nil is a
// cell the write leaves alone.
func rawCells(values [][]any) ([][]*string, error) {
	out := make([][]*string, len(values))
	for i, row := range values {
		out[i] = make([]*string, len(row))
		for j, v := range row {
			var str string
			switch v := v.(type) {
			case nil:
				continue
			case string:
				str = v
			case json.Number:
				f, err := v.Float64()
				if err != nil {
					return nil, fmt.Errorf("Invalid values[%d][%d]: number_value %s", i, j, v)
				}
				str = strconv.FormatFloat(f, 'f', -1, 64)
			case bool:
				str = strings.ToUpper(strconv.FormatBool(v))
			default:
				b, _ := json.Marshal(v)
				return nil, fmt.Errorf("Invalid values[%d][%d]: %s", i, j, b)
			}
			out[i][j] = &str
		}
	}
	return out, nil
}

func transpose(cells [][]*string) [][]*string {
	n := 0
	for _, col := range cells {
		n = max(n, len(col))
	}
	out := make([][]*string, n)
	for i := range out {
		out[i] = make([]*string, len(cells))
		for j, col := range cells {
			if i < len(col) {
				out[i][j] = col[i]
			}
		}
	}
	return out
}

// set writes one cell, 1-based.
func (t *sheetTab) set(row, col int, v string) {
	for len(t.Values) < row {
		t.Values = append(t.Values, nil)
	}
	r := t.Values[row-1]
	for len(r) < col {
		r = append(r, "")
	}
	r[col-1] = v
	t.Values[row-1] = r
}

var plainSheetRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var cellLikeRE = regexp.MustCompile(`^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$`)

// quoteSheet writes a sheet's name in a range the way Sheets does: bare
// when it is a plain word that cannot be read as a cell.
func quoteSheet(title string) string {
	if plainSheetRE.MatchString(title) && !cellLikeRE.MatchString(title) {
		return title
	}
	return "'" + strings.ReplaceAll(title, "'", "''") + "'"
}

// serveSheetPage is where spreadsheetUrl points: a read-only HTML view of
// the spreadsheet, so a URL printed in the sandbox opens.
func (s *Server) serveSheetPage(w http.ResponseWriter, r *http.Request) {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/spreadsheets/d/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.sheets[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1>\n", html.EscapeString(doc.title), html.EscapeString(doc.title))
	for _, t := range doc.tabs {
		fmt.Fprintf(&b, "<h2>%s</h2><table border=1>\n", html.EscapeString(t.Title))
		for _, row := range t.Values {
			b.WriteString("<tr>")
			for _, c := range row {
				fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
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
	name := quoteSheet(t.Title)
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
