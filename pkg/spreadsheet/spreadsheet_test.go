package spreadsheet_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/scope"
	"github.com/invitectl/invitectl/pkg/spreadsheet"
)

func serve(t *testing.T, cfg emulator.Config) (*emulator.Server, string) {
	t.Helper()
	srv, err := emulator.New(emulator.World{Customer: "C0sheet9"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// table is n data rows under a header; cell (i, j) is distinct, and row 1
// holds a formula-looking address that RAW must keep as text.
func table(n int) spreadsheet.Rows {
	return func(fn func([]string) error) error {
		if err := fn([]string{"email", "outcome", "name"}); err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			email := fmt.Sprintf("u%d@example.org", i)
			if i == 1 {
				email = "=1+2@example.org"
			}
			row := []string{email, "done", fmt.Sprintf("Name %d", i)}
			if i == 2 {
				row = row[:2] // a short row
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestWriteReadsBack: a table longer than a batch and than the default grid
// is written RAW into a new spreadsheet, and reads back (values.get through
// the generated client) exactly, formulas as text.
func TestWriteReadsBack(t *testing.T) {
	_, base := serve(t, emulator.Config{})
	cfg := spreadsheet.Config{Endpoint: base}
	const n = 6200
	url, err := spreadsheet.Write(context.Background(), cfg, "Wave 1 results", "Results", table(n))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, base+"/spreadsheets/d/") {
		t.Fatalf("URL %q", url)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(url, base+"/spreadsheets/d/"), "/edit")
	svc, err := spreadsheet.NewService(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := svc.Spreadsheets.Get(id).Do()
	if err != nil {
		t.Fatal(err)
	}
	g := sp.Sheets[0].Properties
	if sp.Properties.Title != "Wave 1 results" || g.Title != "Results" || g.GridProperties.RowCount != n+1 || g.GridProperties.ColumnCount != 3 {
		t.Fatalf("spreadsheet %q, sheet %q of %dx%d", sp.Properties.Title, g.Title, g.GridProperties.RowCount, g.GridProperties.ColumnCount)
	}
	vr, err := svc.Spreadsheets.Values.Get(id, "Results!A1:C").ValueRenderOption("FORMATTED_VALUE").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Values) != n+1 {
		t.Fatalf("%d rows read back, want %d", len(vr.Values), n+1)
	}
	want := map[int]string{0: "email|outcome|name", 1: "=1+2@example.org|done|Name 1", 2: "u2@example.org|done", n: fmt.Sprintf("u%d@example.org|done|Name %d", n, n)}
	for i, w := range want {
		var got []string
		for _, c := range vr.Values[i] {
			got = append(got, fmt.Sprint(c))
		}
		if strings.Join(got, "|") != w {
			t.Errorf("row %d reads back %q, want %q", i+1, got, w)
		}
	}
}

func TestWriteRefusesTooBig(t *testing.T) {
	_, base := serve(t, emulator.Config{})
	passes := 0
	wide := func(fn func([]string) error) error {
		passes++
		row := make([]string, 2000)
		for range 5001 {
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := spreadsheet.Write(context.Background(), spreadsheet.Config{Endpoint: base}, "t", "t", wide)
	if err == nil || !strings.Contains(err.Error(), "more than a spreadsheet holds") {
		t.Fatalf("err = %v", err)
	}
	if passes != 1 {
		t.Errorf("the rows were read %d times: Write went on to create a spreadsheet that cannot hold them", passes)
	}
}

// TestWriteNeedsScope: a token without a Sheets scope is refused, and the
// error names the scope and auth check.
func TestWriteNeedsScope(t *testing.T) {
	_, base := serve(t, emulator.Config{Auth: emulator.AuthConfig{Require: true}})
	cfg := spreadsheet.Config{Endpoint: base, HTTPClient: &http.Client{Timeout: 5 * time.Second}, Retry: pace.Policy{MaxAttempts: 1}}
	_, err := spreadsheet.Write(context.Background(), cfg, "t", "t", table(1))
	if err == nil || !strings.Contains(err.Error(), scope.DriveFile) || !strings.Contains(err.Error(), "auth check") {
		t.Fatalf("err = %v", err)
	}
}
