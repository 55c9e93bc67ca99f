package source

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/googleapi"
)

// fakeSheets serves spreadsheets.values.get as Sheets does: the values of
// a range, trailing empty cells and rows omitted, rows ragged.
type fakeSheets struct {
	mu     sync.Mutex
	paths  []string // escaped request paths, in order
	ranges map[string]string
}

func (f *fakeSheets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.EscapedPath())
	f.mu.Unlock()
	body, ok := f.ranges[r.URL.Path]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}`))
		return
	}
	if q := r.URL.Query(); !strings.Contains(r.URL.Path, "/values/") {
		if q.Get("fields") != "sheets.properties(sheetId,title)" {
			http.Error(w, "unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
	} else if q.Get("majorDimension") != "ROWS" || q.Get("valueRenderOption") != "FORMATTED_VALUE" {
		http.Error(w, "unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write([]byte(body))
}

func newFakeSheets(t *testing.T) (*fakeSheets, SheetsConfig) {
	t.Helper()
	f := &fakeSheets{ranges: map[string]string{
		"/v4/spreadsheets/sheet123/values/A:ZZ": `{
		  "range": "Sheet1!A1:ZZ1000",
		  "majorDimension": "ROWS",
		  "values": [
		    ["Email", "Name", "Action"],
		    ["alice@example.com", "Alice"],
		    [],
		    ["", "", ""],
		    [" BOB@example.com ", "Bob", "cancel", "extra"],
		    ["", "Nobody"],
		    ["alice@example.com", "Alice again", "invite"],
		    ["carol@example.com", "Carol", "later"]
		  ]
		}`,
		"/v4/spreadsheets/sheet123/values/Unmanaged users!B3:D": `{
		  "range": "'Unmanaged users'!B3:D6",
		  "majorDimension": "ROWS",
		  "values": [
		    ["User email", "(Re) Send transfer requests", "Cancel transfer requests"],
		    ["dave@gmail.com", "Yes", "No"],
		    ["erin@gmail.com", "No", "No"],
		    ["frank@gmail.com", "No", "Yes"]
		  ]
		}`,
		"/v4/spreadsheets/sheet123": `{"sheets": [
		  {"properties": {"sheetId": 0, "title": "Sheet1"}},
		  {"properties": {"sheetId": 1234567, "title": "Joiners' list"}}]}`,
		"/v4/spreadsheets/sheet123/values/'Joiners'' list'!A:ZZ": `{
		  "range": "'Joiners'' list'!A1:ZZ1000",
		  "majorDimension": "ROWS",
		  "values": [["E-mail [Required]"], ["joiner@example.com"]]
		}`,
		"/v4/spreadsheets/empty/values/A:ZZ": `{"range": "Sheet1!A1:ZZ1000", "majorDimension": "ROWS"}`,
		"/v4/spreadsheets/noaddr/values/A:ZZ": `{"range": "Sheet1!A1:ZZ1000", "majorDimension": "ROWS",
		  "values": [["first", "last"], ["Alice", "Doe"]]}`,
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, SheetsConfig{Endpoint: srv.URL, HTTPClient: srv.Client()}
}

func TestReadSheet(t *testing.T) {
	const none = ActionDefault
	firstTab := []Target{
		tg(2, "alice@example.com", none, "", 0),
		tg(5, "bob@example.com", ActionCancel, "", 0),
		tg(6, "", none, ReasonInvalidEmail, 0),
		tg(7, "alice@example.com", ActionInvite, ReasonDuplicate, 2),
		tg(8, "carol@example.com", none, ReasonInvalidRow, 0),
	}
	tests := []struct {
		url  string
		want []Target
	}{
		{
			url:  "sheets://sheet123",
			want: firstTab,
		},
		{
			// Item 8: a pasted browser URL; the tab is chosen by its gid.
			url:  "https://docs.google.com/spreadsheets/d/sheet123/edit#gid=1234567",
			want: []Target{tg(2, "joiner@example.com", none, "", 0)},
		},
		{
			url:  "https://docs.google.com/spreadsheets/d/sheet123/edit?usp=sharing", // no gid: the first tab
			want: firstTab,
		},
		{
			url: "sheets://sheet123/Unmanaged users!B3:D", // rows numbered from the range's start
			want: []Target{
				resend(4, "dave@gmail.com", ""),
				tg(5, "erin@gmail.com", ActionNone, ReasonNoAction, 0),
				tg(6, "frank@gmail.com", ActionCancel, "", 0),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, cfg := newFakeSheets(t)
			var got []Target
			info, err := ReadSheet(context.Background(), tt.url, cfg, Options{}, func(tg Target) error {
				got = append(got, tg)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			checkTargets(t, got, tt.want)
			if info.Path != tt.url || info.Format != FormatSheets || info.Rows != len(tt.want) || len(info.SHA256) != 64 {
				t.Errorf("Info = %+v", info)
			}
		})
	}
}

func TestReadSheetHashIsStable(t *testing.T) {
	_, cfg := newFakeSheets(t)
	var sums []string
	for range 2 {
		info, err := ReadSheet(context.Background(), "sheets://sheet123", cfg, Options{}, func(Target) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, info.SHA256)
	}
	other, err := ReadSheet(context.Background(), "sheets://sheet123/Unmanaged users!B3:D", cfg, Options{}, func(Target) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if sums[0] != sums[1] || sums[0] == other.SHA256 {
		t.Errorf("hashes %v and %s: want the same values to hash the same, others not", sums, other.SHA256)
	}
}

func TestReadSheetRequest(t *testing.T) {
	f, cfg := newFakeSheets(t)
	cfg.Endpoint += "/" // with or without the trailing slash
	if _, err := ReadSheet(context.Background(), "sheets://sheet123/Unmanaged users!B3:D", cfg, Options{}, func(Target) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want := "/v4/spreadsheets/sheet123/values/Unmanaged%20users%21B3%3AD" // as the generated client escapes it
	if len(f.paths) != 1 || f.paths[0] != want {
		t.Errorf("requests %q, want exactly %q", f.paths, want)
	}
}

func TestReadSheetErrors(t *testing.T) {
	tests := []struct {
		url      string
		input    bool // an *InputError, else a wrapped *googleapi.Error
		contains string
	}{
		{"sheets://missing", true, "sheets://missing: spreadsheet not found: googleapi: Error 404"},
		{"https://docs.google.com/spreadsheets/d/missing/edit#gid=3", true, "spreadsheet not found"},
		{"https://docs.google.com/spreadsheets/d/sheet123/edit#gid=99", true, "the spreadsheet has no tab with gid 99"},
		{"https://docs.google.com/spreadsheets/d/sheet123/edit#gid=x", true, `gid "x" is not a tab's number`},
		{"sheets://empty", true, "sheets://empty: no header line"},
		{"sheets://noaddr", true, "sheets://noaddr: no address column"},
		{"sheets:///A:B", true, "no spreadsheet ID"},
		{"file.csv", true, "not a sheets://"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, cfg := newFakeSheets(t)
			called := false
			_, err := ReadSheet(context.Background(), tt.url, cfg, Options{}, func(Target) error {
				called = true
				return nil
			})
			var ie *InputError
			if errors.As(err, &ie) != tt.input || err == nil || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("err = %v (%T), want InputError %v containing %q", err, err, tt.input, tt.contains)
			}
			if called {
				t.Error("fn was called")
			}
		})
	}
}

func TestReadSheetForbiddenIsNotInputError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}})
	}))
	defer srv.Close()
	_, err := ReadSheet(context.Background(), "sheets://secret", SheetsConfig{Endpoint: srv.URL}, Options{}, func(Target) error { return nil })
	var ie *InputError
	var gerr *googleapi.Error
	if errors.As(err, &ie) || !errors.As(err, &gerr) || gerr.Code != http.StatusForbidden {
		t.Fatalf("err = %v (%T), want a wrapped *googleapi.Error 403", err, err)
	}
	if !strings.HasPrefix(err.Error(), "read sheets://secret: ") {
		t.Errorf("error %q does not name the input", err)
	}
}

func TestSheetsURL(t *testing.T) {
	tests := []struct {
		in      string
		is      bool
		id, rng string
		hasGid  bool
		gid     int64
	}{
		{"sheets://abc", true, "abc", "A:ZZ", false, 0},
		{"SHEETS://abc/", true, "abc", "A:ZZ", false, 0},
		{"sheets://abc/Sheet1!A1:C", true, "abc", "Sheet1!A1:C", false, 0},
		{"sheets://abc/a/b!A:A", true, "abc", "a/b!A:A", false, 0},
		// Item 8: the address bar of a browser.
		{"https://docs.google.com/spreadsheets/d/1AbC-x_9/edit#gid=0", true, "1AbC-x_9", "", true, 0},
		{"https://docs.google.com/spreadsheets/d/1AbC/edit?usp=sharing#gid=1234567", true, "1AbC", "", true, 1234567},
		{"https://docs.google.com/spreadsheets/d/1AbC/edit?gid=42#gid=42", true, "1AbC", "", true, 42},
		{"https://docs.google.com/spreadsheets/u/1/d/1AbC/edit#gid=7", true, "1AbC", "", true, 7},
		{"https://docs.google.com/spreadsheets/d/1AbC", true, "1AbC", "A:ZZ", false, 0},
		{"https://DOCS.google.com/spreadsheets/d/1AbC/view", true, "1AbC", "A:ZZ", false, 0},
		{"https://docs.google.com/document/d/1AbC/edit", false, "", "", false, 0},
		{"https://example.com/spreadsheets/d/1AbC/edit", false, "", "", false, 0},
		{"sheets:/abc", false, "", "", false, 0},
		{"campaign.csv", false, "", "", false, 0},
	}
	for _, tt := range tests {
		if got := IsSheetsURL(tt.in); got != tt.is {
			t.Errorf("IsSheetsURL(%q) = %v", tt.in, got)
		}
		if !tt.is {
			continue
		}
		ref, err := parseSheetsURL(tt.in)
		if err != nil || ref.id != tt.id || ref.rng != tt.rng || ref.hasGid != tt.hasGid || ref.gid != tt.gid {
			t.Errorf("parseSheetsURL(%q) = %+v, %v; want %q, %q, gid %v %d", tt.in, ref, err, tt.id, tt.rng, tt.hasGid, tt.gid)
		}
	}
}

func TestFirstRow(t *testing.T) {
	tests := map[string]int{
		"Sheet1!A1:Z3":       1,
		"'My sheet'!B5:D":    5,
		"'a!b'!$C$12:D20":    12,
		"A:ZZ":               1,
		"Sheet1!7:9":         7,
		"Sheet1":             1,
		"Sheet1!AB100:AC200": 100,
	}
	for in, want := range tests {
		if got := firstRow(in); got != want {
			t.Errorf("firstRow(%q) = %d, want %d", in, got, want)
		}
	}
}
