package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	sheets "google.golang.org/api/sheets/v4"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/scope"
)

func sheetsService(t *testing.T, base string, hc *http.Client) *sheets.Service {
	t.Helper()
	svc, err := sheets.NewService(context.Background(), option.WithEndpoint(base+"/"), option.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func gcode(err error) (int, string) {
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code, g.Message
	}
	return 0, ""
}

// TestSheetsWriteAndReadBack: spreadsheets.create, values.update with RAW
// and values.get through the generated client (issue 11 item 5).
func TestSheetsWriteAndReadBack(t *testing.T) {
	_, base, _ := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	svc := sheetsService(t, base, http.DefaultClient)
	sp, err := svc.Spreadsheets.Create(&sheets.Spreadsheet{
		Properties: &sheets.SpreadsheetProperties{Title: "Campaign results"},
		Sheets:     []*sheets.Sheet{{Properties: &sheets.SheetProperties{Title: "Results", GridProperties: &sheets.GridProperties{RowCount: 5000, ColumnCount: 10}}}},
	}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.SpreadsheetId) != 44 || sp.SpreadsheetUrl != base+"/spreadsheets/d/"+sp.SpreadsheetId+"/edit" ||
		sp.Properties.Title != "Campaign results" || len(sp.Sheets) != 1 || sp.Sheets[0].Properties.GridProperties.RowCount != 5000 {
		t.Fatalf("created %+v", sp)
	}
	rows := [][]any{{"email", "outcome", "mails"}, {"=1+2@example.org", "done", 3}, {"+cmd@example.org", true, nil}}
	up, err := svc.Spreadsheets.Values.Update(sp.SpreadsheetId, "Results!A1", &sheets.ValueRange{Values: rows}).ValueInputOption("RAW").Do()
	if err != nil {
		t.Fatal(err)
	}
	if up.UpdatedRange != "Results!A1:C3" || up.UpdatedCells != 8 || up.UpdatedRows != 3 || up.UpdatedColumns != 3 {
		t.Errorf("update %+v", up)
	}
	got, err := svc.Spreadsheets.Values.Get(sp.SpreadsheetId, "Results").Do()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got.Values)
	if want := `[["email","outcome","mails"],["=1+2@example.org","done","3"],["+cmd@example.org","TRUE"]]`; string(b) != want {
		t.Errorf("read back %s\nwant      %s", b, want)
	}
	// A second write over part of it, by columns; null leaves a cell alone.
	if _, err := svc.Spreadsheets.Values.Update(sp.SpreadsheetId, "Results!B2:B3",
		&sheets.ValueRange{MajorDimension: "COLUMNS", Values: [][]any{{nil, "failed"}}}).ValueInputOption("RAW").Do(); err != nil {
		t.Fatal(err)
	}
	got, _ = svc.Spreadsheets.Values.Get(sp.SpreadsheetId, "Results!A2:C3").Do()
	b, _ = json.Marshal(got.Values)
	if want := `[["=1+2@example.org","done","3"],["+cmd@example.org","failed"]]`; string(b) != want {
		t.Errorf("after the second write %s\nwant                   %s", b, want)
	}
	meta, err := svc.Spreadsheets.Get(sp.SpreadsheetId).Do()
	if err != nil || meta.SpreadsheetUrl != sp.SpreadsheetUrl || meta.Sheets[0].Properties.Title != "Results" {
		t.Fatalf("get: %+v, %v", meta, err)
	}
	// The URL opens, and shows the cells as text.
	resp, err := http.Get(sp.SpreadsheetUrl)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<td>=1+2@example.org</td>") {
		t.Errorf("page: HTTP %d %s", resp.StatusCode, page)
	}
}

func TestSheetsRefusals(t *testing.T) {
	_, base, _ := start(t, smallWorld(), emulator.Config{}, invitations.V1)
	svc := sheetsService(t, base, http.DefaultClient)
	sp, err := svc.Spreadsheets.Create(&sheets.Spreadsheet{}).Do() // one Sheet1 of 1000 x 26
	if err != nil {
		t.Fatal(err)
	}
	if sp.Sheets[0].Properties.Title != "Sheet1" || sp.Sheets[0].Properties.GridProperties.RowCount != 1000 || sp.Sheets[0].Properties.GridProperties.ColumnCount != 26 {
		t.Fatalf("default sheet %+v", sp.Sheets[0].Properties)
	}
	id := sp.SpreadsheetId
	two := [][]any{{"a"}, {"b"}}
	cases := []struct {
		name   string
		do     func() error
		code   int
		substr string
	}{
		{"USER_ENTERED", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "A1", &sheets.ValueRange{Values: two}).ValueInputOption("USER_ENTERED").Do()
			return err
		}, 400, "USER_ENTERED"},
		{"no valueInputOption", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "A1", &sheets.ValueRange{Values: two}).Do()
			return err
		}, 400, "'valueInputOption' is required"},
		{"past the range", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "Sheet1!A1:A1", &sheets.ValueRange{Values: [][]any{{"a", "b"}}}).ValueInputOption("RAW").Do()
			return err
		}, 0, ""}, // a single cell is only where the values start
		{"past a bounded range", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "Sheet1!A1:B1", &sheets.ValueRange{Values: two}).ValueInputOption("RAW").Do()
			return err
		}, 400, "tried writing to row [2]"},
		{"past the grid's rows", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "Sheet1!A1000", &sheets.ValueRange{Values: two}).ValueInputOption("RAW").Do()
			return err
		}, 400, "Range (Sheet1!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"},
		{"past the grid's columns", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "Sheet1!Z1", &sheets.ValueRange{Values: [][]any{{"a", "b"}}}).ValueInputOption("RAW").Do()
			return err
		}, 400, "Range (Sheet1!AA1) exceeds grid limits"},
		{"unknown sheet", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "Nope!A1", &sheets.ValueRange{Values: two}).ValueInputOption("RAW").Do()
			return err
		}, 400, "Unable to parse range"},
		{"unknown spreadsheet", func() error {
			_, err := svc.Spreadsheets.Values.Get("nope", "A1").Do()
			return err
		}, 404, "not found"},
		{"body range differs", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "A1", &sheets.ValueRange{Range: "B1", Values: two}).ValueInputOption("RAW").Do()
			return err
		}, 400, "must match"},
		{"over ten million cells", func() error {
			_, err := svc.Spreadsheets.Create(&sheets.Spreadsheet{Sheets: []*sheets.Sheet{{Properties: &sheets.SheetProperties{
				GridProperties: &sheets.GridProperties{RowCount: 1_000_000, ColumnCount: 11}}}}}).Do()
			return err
		}, 400, "above the limit of 10000000 cells"},
		{"two sheets of one name", func() error {
			_, err := svc.Spreadsheets.Create(&sheets.Spreadsheet{Sheets: []*sheets.Sheet{
				{Properties: &sheets.SheetProperties{Title: "R"}}, {Properties: &sheets.SheetProperties{Title: "R"}}}}).Do()
			return err
		}, 400, "already exists"},
		{"an unserved method", func() error {
			_, err := svc.Spreadsheets.Values.Append(id, "A1", &sheets.ValueRange{Values: two}).ValueInputOption("RAW").Do()
			return err
		}, 501, "serves"},
	}
	for _, tc := range cases {
		err := tc.do()
		code, msg := gcode(err)
		if code != tc.code || !strings.Contains(msg, tc.substr) || tc.code == 0 && err != nil {
			t.Errorf("%s: %v, want HTTP %d mentioning %q", tc.name, err, tc.code, tc.substr)
		}
	}
	// Nothing refused was written.
	got, _ := svc.Spreadsheets.Values.Get(id, "Sheet1").Do()
	if b, _ := json.Marshal(got.Values); string(b) != `[["a","b"]]` {
		t.Errorf("sheet after refusals: %s", b)
	}
}

// TestSheetsScopes: under --require-auth the Sheets calls need Google's
// scopes: drive.file (or spreadsheets, drive) to create and write, and
// drive.file reaches only the spreadsheets its caller created.
func TestSheetsScopes(t *testing.T) {
	w := smallWorld()
	w.Sheets = map[string]emulator.Spreadsheet{"book1": {Tabs: []emulator.Tab{{Title: "Roster", Values: [][]string{{"email"}}}}}}
	logins := map[string]emulator.Login{
		"rt-file":  {Subject: "ann@example.com", Scopes: []string{scope.DriveFile}},
		"rt-file2": {Subject: "bob@example.com", Scopes: []string{scope.DriveFile}},
		"rt-ro":    {Subject: "ann@example.com", Scopes: []string{scope.SheetsReadOnly}},
		"rt-inv":   {Subject: "ann@example.com", Scopes: []string{scope.Invitations}},
		"rt-full":  {Subject: "bob@example.com", Scopes: []string{scope.Spreadsheets}},
	}
	_, base, _ := start(t, w, emulator.Config{Auth: emulator.AuthConfig{Require: true, Logins: logins}}, invitations.V1)
	svc := func(refresh string) *sheets.Service {
		oc := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: base + "/token"}}
		return sheetsService(t, base, oauth2.NewClient(context.Background(), oc.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refresh})))
	}
	file, file2, ro, inv, full := svc("rt-file"), svc("rt-file2"), svc("rt-ro"), svc("rt-inv"), svc("rt-full")
	sp, err := file.Spreadsheets.Create(&sheets.Spreadsheet{}).Do()
	if err != nil {
		t.Fatalf("create with drive.file: %v", err)
	}
	id := sp.SpreadsheetId
	update := func(s *sheets.Service, id string) error {
		_, err := s.Spreadsheets.Values.Update(id, "A1", &sheets.ValueRange{Values: [][]any{{"x"}}}).ValueInputOption("RAW").Do()
		return err
	}
	get := func(s *sheets.Service, id string) error {
		_, err := s.Spreadsheets.Values.Get(id, "A1").Do()
		return err
	}
	create := func(s *sheets.Service) error {
		_, err := s.Spreadsheets.Create(&sheets.Spreadsheet{}).Do()
		return err
	}
	cases := []struct {
		name   string
		err    error
		code   int
		substr string
	}{
		{"drive.file writes its own", update(file, id), 0, ""},
		{"drive.file reads its own", get(file, id), 0, ""},
		{"drive.file reads the user's other sheet", get(file, "book1"), 403, "The caller does not have permission"},
		{"drive.file of another user", get(file2, id), 403, "The caller does not have permission"},
		{"read-only reads any", get(ro, "book1"), 0, ""},
		{"read-only writes", update(ro, id), 403, "insufficient authentication scopes"},
		{"read-only creates", create(ro), 403, "insufficient authentication scopes"},
		{"invitations scope only", create(inv), 403, "insufficient authentication scopes"},
		{"spreadsheets writes any", update(full, id), 0, ""},
	}
	for _, tc := range cases {
		code, msg := gcode(tc.err)
		if code != tc.code || !strings.Contains(msg, tc.substr) || tc.code == 0 && tc.err != nil {
			t.Errorf("%s: %v, want HTTP %d mentioning %q", tc.name, tc.err, tc.code, tc.substr)
		}
	}
}
