package planner

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

var update = flag.Bool("update", false, "rewrite the golden files of the plan view")

// goldenPlan writes a plan whose items and header make the view say
// everything it can: every note, a pruned row, columns, a learned quota.
func goldenPlan(t *testing.T, full bool) string {
	t.Helper()
	upd := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	yes, no := true, false
	nys := &Observed{State: invitations.StateNotYetSent, UpdateTime: upd}
	items := []Item{
		{Row: 1, Email: "a@acme.example", Action: ActionSend, Reason: ReasonNotYetSent, Observed: nys, Columns: Columns{{Name: "dept", Value: "=Sales"}}},
		{Row: 2, Email: "b@acme.example", Action: ActionNone, Reason: ReasonNotInvitable, Invitable: &no},
	}
	hdr := Header{Kind: Kind, Version: Version, Customer: "C0golden", APIVersion: "v1", CreatedAt: upd,
		Source: Source{Path: "campaign.csv", SHA256: "00", Rows: 2}, Policy: Policy{Action: WantInvite}, Columns: []string{"dept"}}
	if full {
		items = append(items,
			Item{Row: 3, Email: "c@acme.example", Action: ActionSend, Reason: ReasonUnlistedInvitable, Invitable: &yes},
			Item{Row: 4, Email: "d@acme.example", Action: ActionNone, Reason: ReasonRecentlySent, Detail: "sent 2026-01-05T08:00:00Z by plan p.jsonl"},
			Item{Row: 5, Email: "e@acme.example", Action: ActionNone, Reason: ReasonInFlight, Detail: "resume r.jsonl"},
			Item{Row: 6, Email: "f@acme.example", Action: ActionNone, Reason: ReasonCheckFailed, Error: "503 UNAVAILABLE"},
			Item{Row: 7, Email: "g@acme.example", Action: ActionNone, Reason: ReasonCheckRefused, Error: "403 PERMISSION_DENIED"},
			Item{Row: 8, Email: "h@acme.example", Action: ActionSend, Reason: ReasonResend,
				Observed: &Observed{State: invitations.StateInvited, MailsSentCount: 1, UpdateTime: upd}},
			Item{Row: 0, Email: "old@acme.example", Action: ActionCancel, Reason: ReasonNotInInput,
				Observed: &Observed{State: invitations.StateInvited, MailsSentCount: 2, UpdateTime: upd}},
			Item{Row: 9, Email: "", Action: ActionNone, Reason: ReasonInvalidRow, Detail: "no address"})
		hdr.Source.Format, hdr.Source.Rows = source.FormatNoHeader, 9
		hdr.Policy = Policy{Action: WantInvite, ResendAfter: Duration(7 * 24 * time.Hour), MaxMails: 3, TrustList: true, Prune: true}
		hdr.ListingStopped = 200
		hdr.Listed = map[invitations.State]int{invitations.StateInvited: 1}
		hdr.LagWindow = Duration(72 * time.Hour)
		hdr.Pace = &pace.State{Quotas: []pace.Learned{{Classes: []pace.Class{pace.Read, pace.Write}, Name: "RequestsPerHour", Value: 1, WindowSeconds: 3600, Pace: 1, Help: "https://cloud.google.com/docs/quotas/help/request_increase"}}}
	}
	for _, it := range items {
		hdr.Summary.Add(it)
	}
	path := filepath.Join(t.TempDir(), "plan.jsonl")
	fw, err := CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	for _, it := range items {
		if err := fw.Emit(it); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fw.Commit(hdr); err != nil {
		t.Fatal(err)
	}
	return path
}

// The plan view, whole, in testdata/view-*.golden: a plan that makes it
// say everything (every note, a learned quota of one call a minute, so
// the estimate is past an hour, a narrow terminal) and one that makes it
// say little. go test ./planner -run TestRenderGolden -update rewrites them.
func TestRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		full   bool
		format string
		width  int
	}{
		{"full-table", true, "", 60},
		{"full-csv", true, FormatCSV, 0},
		{"plain-table", false, "", 0},
		{"plain-csv", false, FormatCSV, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, goldenPlan(t, tt.full), tt.format, tt.width); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "view-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("view differs from %s:\n%s", golden, b.String())
			}
		})
	}
}
