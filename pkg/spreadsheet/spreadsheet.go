// Package spreadsheet writes a table into a new Google Sheets spreadsheet
// (spreadsheets.create, then spreadsheets.values.update with
// valueInputOption RAW, so that a cell such as =1+2@example.org stays text
// and nothing needs defusing), the way GAM's todrive hands results to
// colleagues who live in Sheets.
package spreadsheet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"

	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/scope"
)

// MaxCells is the most cells a spreadsheet holds.
const MaxCells = 10_000_000

// A batch of rows goes in one values.update, bounded so that a request
// stays well under the size Sheets accepts.
const (
	batchRows  = 5000
	batchBytes = 1 << 20
)

// Config says how to reach the Sheets API.
type Config struct {
	// Endpoint replaces Google's base URL (an emulator); "" is Google's.
	Endpoint string
	// HTTPClient carries the credentials; nil is http.DefaultClient (no
	// credentials: an emulator).
	HTTPClient *http.Client
	// Retry paces retries of refused (429) and failed (5xx) writes.
	Retry pace.Policy
}

// NewService is the generated client for cfg.
func NewService(ctx context.Context, cfg Config) (*sheets.Service, error) {
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
	return sheets.NewService(ctx, opts...)
}

// Rows gives a table's rows to fn, the header first; Write calls it twice
// (to size the sheet, then to write it), and it must give the same rows
// both times. fn keeps no slice.
type Rows func(fn func([]string) error) error

// Write creates a spreadsheet titled title with one sheet named tab, sized
// to the rows, writes them as text (RAW) in batches, and returns the
// spreadsheet's URL. A table of more than MaxCells cells is refused before
// anything is created.
func Write(ctx context.Context, cfg Config, title, tab string, rows Rows) (string, error) {
	n, cols := 0, 1
	if err := rows(func(r []string) error {
		n++
		cols = max(cols, len(r))
		return nil
	}); err != nil {
		return "", err
	}
	n = max(n, 1)
	if n*cols > MaxCells {
		return "", fmt.Errorf("%d rows of %d columns are more than a spreadsheet holds (%d cells): write a CSV instead", n, cols, MaxCells)
	}
	svc, err := NewService(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("sheets: %w", err)
	}
	var sp *sheets.Spreadsheet
	_, err = pace.Do(ctx, nil, cfg.Retry, quotaOnly, func(ctx context.Context) (err error) {
		sp, err = svc.Spreadsheets.Create(&sheets.Spreadsheet{
			Properties: &sheets.SpreadsheetProperties{Title: title},
			Sheets: []*sheets.Sheet{{Properties: &sheets.SheetProperties{Title: tab,
				GridProperties: &sheets.GridProperties{RowCount: int64(n), ColumnCount: int64(cols)}}}},
		}).Context(ctx).Do()
		return err
	})
	if err != nil {
		return "", explain("create a spreadsheet", err)
	}
	w := &batcher{ctx: ctx, cfg: cfg, svc: svc, id: sp.SpreadsheetId, tab: quoteTab(tab), next: 1}
	if err := rows(w.add); err != nil {
		return "", err
	}
	if err := w.flush(); err != nil {
		return "", err
	}
	return sp.SpreadsheetUrl, nil
}

// batcher gathers rows into values.update calls.
type batcher struct {
	ctx   context.Context
	cfg   Config
	svc   *sheets.Service
	id    string
	tab   string
	next  int // the spreadsheet row the batch starts on
	batch [][]any
	bytes int
}

func (b *batcher) add(r []string) error {
	row := make([]any, len(r))
	for i, c := range r {
		row[i] = c
		b.bytes += len(c) + 4
	}
	b.batch = append(b.batch, row)
	if len(b.batch) >= batchRows || b.bytes >= batchBytes {
		return b.flush()
	}
	return nil
}

// flush writes the batch. A values.update writes the same cells however
// often it is repeated, so a 5xx is retried as safely as a 429.
func (b *batcher) flush() error {
	if len(b.batch) == 0 {
		return nil
	}
	rng := fmt.Sprintf("%s!A%d", b.tab, b.next)
	vr := &sheets.ValueRange{MajorDimension: "ROWS", Values: b.batch}
	_, err := pace.Do(b.ctx, nil, b.cfg.Retry, transient, func(ctx context.Context) error {
		_, err := b.svc.Spreadsheets.Values.Update(b.id, rng, vr).ValueInputOption("RAW").Context(ctx).Do()
		return err
	})
	if err != nil {
		return explain(fmt.Sprintf("write rows %d to %d", b.next, b.next+len(b.batch)-1), err)
	}
	b.next += len(b.batch)
	b.batch, b.bytes = b.batch[:0], 0
	return nil
}

// quoteTab quotes a sheet's name for A1 notation.
func quoteTab(tab string) string { return "'" + strings.ReplaceAll(tab, "'", "''") + "'" }

func code(err error) int {
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code
	}
	return 0
}

// quotaOnly retries what certainly did nothing: creating twice would leave
// a second spreadsheet behind.
func quotaOnly(err error) pace.Verdict {
	return pace.Verdict{Retry: code(err) == http.StatusTooManyRequests}
}

func transient(err error) pace.Verdict {
	c := code(err)
	return pace.Verdict{Retry: c == http.StatusTooManyRequests || c >= 500}
}

// explain wraps a Sheets error with what was being done and, for a refusal,
// the scope it takes.
func explain(what string, err error) error {
	switch code(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("sheets: %s: %w (writing needs the scope %s: 'invitectl auth check' shows whether it is granted)", what, err, scope.DriveFile)
	}
	return fmt.Errorf("sheets: %s: %w", what, err)
}
