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
	"strconv"
	"strings"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"
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

// IsSheetsURL reports whether s names a spreadsheet (sheets://ID[/RANGE])
// rather than a file.
func IsSheetsURL(s string) bool {
	return len(s) >= len(sheetsScheme) && strings.EqualFold(s[:len(sheetsScheme)], sheetsScheme)
}

// parseSheetsURL splits sheets://SPREADSHEET_ID[/RANGE] into the ID and the
// range (defaultSheetRange when absent). Everything after the first slash is
// the range, as sheet names may contain slashes.
func parseSheetsURL(s string) (id, rng string, err error) {
	if !IsSheetsURL(s) {
		return "", "", &InputError{Path: s, Problem: "not a sheets://SPREADSHEET_ID[/RANGE] URL"}
	}
	id, rng, _ = strings.Cut(s[len(sheetsScheme):], "/")
	if id == "" {
		return "", "", &InputError{Path: s, Problem: "no spreadsheet ID (want sheets://SPREADSHEET_ID[/RANGE])"}
	}
	if rng == "" {
		rng = defaultSheetRange
	}
	return id, rng, nil
}

// ReadSheet reads the range of a spreadsheet named by a sheets:// URL with
// Spreadsheets.Values.Get (the range "A:ZZ" of the first visible sheet when
// the URL names none) and streams its targets to fn like ReadFile; Row is
// the spreadsheet row number. The values are fetched in one response, so
// unlike a file a sheet is held in memory while it is read (Sheets caps a
// spreadsheet at 10 million cells). A missing spreadsheet or a rejected range
// is an *InputError; other API errors (permission, quota, network) are
// returned wrapped, with the *googleapi.Error for the caller to classify.
func ReadSheet(ctx context.Context, url string, cfg SheetsConfig, opts Options, fn func(Target) error) (Info, error) {
	info := Info{Path: url, Format: FormatSheets}
	id, rng, err := parseSheetsURL(url)
	if err != nil {
		return info, err
	}
	vr, err := getValues(ctx, cfg, id, rng)
	if err != nil {
		return info, sheetsError(url, rng, err)
	}
	sum, err := hashValues(vr.Values)
	if err != nil {
		return info, fmt.Errorf("read %s: %w", url, err)
	}
	info.SHA256 = sum
	in := &sheetRecords{values: vr.Values, first: firstRow(vr.Range)}
	info.Rows, _, err = run(in, url, opts, fn)
	return info, err
}

func getValues(ctx context.Context, cfg SheetsConfig, id, rng string) (*sheets.ValueRange, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient // never Application Default Credentials behind the caller's back
	}
	opts := []option.ClientOption{option.WithHTTPClient(hc)}
	if cfg.Endpoint != "" {
		ep := cfg.Endpoint
		if !strings.HasSuffix(ep, "/") {
			ep += "/" // the generated client resolves "v4/…" against it
		}
		opts = append(opts, option.WithEndpoint(ep))
	}
	svc, err := sheets.NewService(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return svc.Spreadsheets.Values.Get(id, rng).
		MajorDimension("ROWS").
		ValueRenderOption("FORMATTED_VALUE"). // what the user sees, as in a download
		Context(ctx).Do()
}

func sheetsError(url, rng string, err error) error {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		switch gerr.Code {
		case http.StatusNotFound:
			return &InputError{Path: url, Problem: "spreadsheet not found", Err: err}
		case http.StatusBadRequest:
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
