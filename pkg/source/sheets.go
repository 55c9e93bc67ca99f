package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/sheets/v4"

	"github.com/invitectl/invitectl/pkg/spreadsheet"
)

const sheetsScheme = "sheets://"

// defaultSheetRange is read when a sheets:// URL names no range. Without a
// sheet name, Sheets resolves A1 notation against the first visible sheet;
// ZZ (702 columns) is wider than any campaign, and one request is enough.
const defaultSheetRange = "A:ZZ"

// SheetsConfig says how to reach the Sheets API.
type SheetsConfig struct {
	Endpoint   string       // "" = Google's
	HTTPClient *http.Client // nil = http.DefaultClient; the caller puts auth in it
}

// IsSheetsURL reports whether s names a spreadsheet rather than a file:
// sheets://ID[/RANGE], or a spreadsheet's address as a browser shows it,
// https://docs.google.com/spreadsheets/d/ID/edit#gid=N.
func IsSheetsURL(s string) bool {
	if len(s) >= len(sheetsScheme) && strings.EqualFold(s[:len(sheetsScheme)], sheetsScheme) {
		return true
	}
	_, err := parseDocsURL(s)
	return err != errNotDocsURL
}

// sheetRef is a spreadsheet and what to read of it.
type sheetRef struct {
	id     string
	rng    string // A1 range; "" when gid names the tab
	gid    int64  // the tab's sheetId, when hasGid
	hasGid bool
}

// parseSheetsURL reads sheets://SPREADSHEET_ID[/RANGE] (the range is
// defaultSheetRange when absent; everything after the first slash is the
// range, as sheet names may contain slashes) or a docs.google.com URL.
func parseSheetsURL(s string) (sheetRef, error) {
	if !IsSheetsURL(s) {
		return sheetRef{}, &InputError{Path: s, Problem: "not a sheets://SPREADSHEET_ID[/RANGE] URL"}
	}
	if !strings.EqualFold(s[:min(len(s), len(sheetsScheme))], sheetsScheme) {
		return parseDocsURL(s)
	}
	id, rng, _ := strings.Cut(s[len(sheetsScheme):], "/")
	if id == "" {
		return sheetRef{}, &InputError{Path: s, Problem: "no spreadsheet ID (want sheets://SPREADSHEET_ID[/RANGE])"}
	}
	if rng == "" {
		rng = defaultSheetRange
	}
	return sheetRef{id: id, rng: rng}, nil
}

// parseDocsURL reads https://docs.google.com/spreadsheets/d/ID/… (also
// /spreadsheets/u/N/d/ID/… when several accounts are signed in), with the
// tab in #gid=N or ?gid=N; without one, the first visible tab is read.
func parseDocsURL(s string) (sheetRef, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.EqualFold(u.Hostname(), "docs.google.com") {
		return sheetRef{}, errNotDocsURL
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 4 && parts[0] == "spreadsheets" && parts[1] == "u" {
		parts = append(parts[:1], parts[3:]...)
	}
	if len(parts) < 3 || parts[0] != "spreadsheets" || parts[1] != "d" || parts[2] == "" {
		return sheetRef{}, errNotDocsURL
	}
	ref := sheetRef{id: parts[2], rng: defaultSheetRange}
	gid := u.Query().Get("gid")
	if frag, err := url.ParseQuery(u.Fragment); err == nil && frag.Get("gid") != "" {
		gid = frag.Get("gid")
	}
	if gid != "" {
		n, err := strconv.ParseInt(gid, 10, 64)
		if err != nil {
			return sheetRef{}, &InputError{Path: s, Problem: fmt.Sprintf("gid %q is not a tab's number", gid)}
		}
		ref.gid, ref.hasGid, ref.rng = n, true, ""
	}
	return ref, nil
}

var errNotDocsURL = errors.New("not a Google Sheets URL")

// ReadSheet reads a spreadsheet named by a sheets:// or docs.google.com URL
// with Spreadsheets.Values.Get (the range "A:ZZ" of the first visible sheet
// when the URL names none; the tab whose sheetId is the URL's gid, found with
// Spreadsheets.Get) and streams its targets to fn like ReadFile; Row is the
// spreadsheet row number. The values are fetched in one response, so unlike
// a file a sheet is held in memory while it is read (Sheets caps a
// spreadsheet at 10 million cells). A missing spreadsheet or tab, or a
// rejected range, is an *InputError; other API errors (permission, quota,
// network) are returned wrapped, with the *googleapi.Error for the caller to
// classify.
func ReadSheet(ctx context.Context, url string, cfg SheetsConfig, opts Options, fn func(Target) error) (Info, error) {
	info := Info{Path: url, Format: FormatSheets}
	ref, err := parseSheetsURL(url)
	if err != nil {
		return info, err
	}
	svc, err := sheetsService(ctx, cfg)
	if err != nil {
		return info, fmt.Errorf("read %s: %w", url, err)
	}
	if ref.hasGid {
		title, err := tabTitle(ctx, svc, ref)
		if err != nil {
			return info, sheetsError(url, "", err)
		}
		if title == "" {
			return info, &InputError{Path: url, Problem: fmt.Sprintf("the spreadsheet has no tab with gid %d", ref.gid)}
		}
		ref.rng = "'" + strings.ReplaceAll(title, "'", "''") + "'!" + defaultSheetRange
	}
	vr, err := svc.Spreadsheets.Values.Get(ref.id, ref.rng).
		MajorDimension("ROWS").
		ValueRenderOption("FORMATTED_VALUE"). // what the user sees, as in a download
		Context(ctx).Do()
	if err != nil {
		return info, sheetsError(url, ref.rng, err)
	}
	sum, err := hashValues(vr.Values)
	if err != nil {
		return info, fmt.Errorf("read %s: %w", url, err)
	}
	info.SHA256 = sum
	in := &sheetRecords{values: vr.Values, first: firstRow(vr.Range)}
	info.Rows, info.Columns, err = runRecords(in, url, opts, fn)
	return info, err
}

func sheetsService(ctx context.Context, cfg SheetsConfig) (*sheets.Service, error) {
	return spreadsheet.NewService(ctx, spreadsheet.Config{Endpoint: cfg.Endpoint, HTTPClient: cfg.HTTPClient})
}

// tabTitle is the title of the tab whose sheetId is ref.gid, "" when there
// is none.
func tabTitle(ctx context.Context, svc *sheets.Service, ref sheetRef) (string, error) {
	sp, err := svc.Spreadsheets.Get(ref.id).Fields("sheets.properties(sheetId,title)").Context(ctx).Do()
	if err != nil {
		return "", err
	}
	for _, sh := range sp.Sheets {
		if sh.Properties != nil && sh.Properties.SheetId == ref.gid {
			return sh.Properties.Title, nil
		}
	}
	return "", nil
}

func sheetsError(url, rng string, err error) error {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		switch gerr.Code {
		case http.StatusNotFound:
			return &InputError{Path: url, Problem: "spreadsheet not found", Err: err}
		case http.StatusBadRequest:
			if rng == "" {
				return &InputError{Path: url, Problem: "request rejected", Err: err}
			}
			return &InputError{Path: url, Problem: fmt.Sprintf("range %q rejected", rng), Err: err}
		}
	}
	return fmt.Errorf("read %s: %w", url, err)
}

// hashValues fingerprints the values as fetched: one JSON array per row.
func hashValues(values [][]interface{}) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, r := range values {
		if err := enc.Encode(r); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// firstRow is the spreadsheet row of the first value in a returned range
// such as "Sheet1!A1:Z3", "'My sheet'!B5:D" or "A:ZZ" (row 1).
func firstRow(a1 string) int {
	if i := strings.LastIndexByte(a1, '!'); i >= 0 {
		a1 = a1[i+1:]
	}
	start, _, _ := strings.Cut(a1, ":")
	start = strings.TrimLeft(start, "$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
	start = strings.TrimPrefix(start, "$")
	if n, err := strconv.Atoi(start); err == nil && n > 0 {
		return n
	}
	return 1
}

// sheetRecords is the record stream of fetched values. Sheets omits
// trailing empty cells and rows, so rows are ragged like a download.
type sheetRecords struct {
	values [][]interface{}
	first  int
	i      int
	cells  []string
}

func (s *sheetRecords) next() ([]string, int, error) {
	if s.i >= len(s.values) {
		return nil, 0, io.EOF
	}
	r := s.values[s.i]
	s.cells = s.cells[:0]
	for _, v := range r {
		s.cells = append(s.cells, cellString(v))
	}
	s.i++
	return s.cells, s.first + s.i - 1, nil
}

func cellString(v interface{}) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
