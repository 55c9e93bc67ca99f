package main

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/samples"
)

// The pacing benchmarks of issue 9: whole campaigns, plan and apply in this
// process through the real commands, against an emulator that enforces
// Google's per-minute quotas. They run in real time (minutes), so they are
// benchmarks only: `make bench`, never `make test`.

// benchCampaign is the sample world and a 400-row campaign: every account of
// samples/world.json and 80 addresses that have none.
func benchCampaign(b *testing.B) (emulator.World, string) {
	w, err := emulator.ParseWorld(samples.World, "samples/world.json")
	if err != nil {
		b.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email\n")
	for _, u := range w.Users {
		csv.WriteString(u.Email + "\n")
	}
	for i := range 400 - len(w.Users) {
		fmt.Fprintf(&csv, "nobody%02d@acme-corp.example\n", i)
	}
	return w, csv.String()
}

// invoke runs one command in this process against url and fails b when it
// does not end with one of the codes.
func invoke(b *testing.B, url, customer, state string, codes []int, args ...string) string {
	var out, errOut bytes.Buffer
	env := map[string]string{"INVITECTL_ENDPOINT": url, "INVITECTL_CUSTOMER": customer, "INVITECTL_STATE_DIR": state}
	code := run(args, ioStreams{in: strings.NewReader(""), out: &out, errOut: &errOut, getenv: func(k string) string { return env[k] }})
	for _, c := range codes {
		if c == code {
			return out.String()
		}
	}
	b.Fatalf("%v: exit %d\n%s\n%s", args, code, out.String(), errOut.String())
	return ""
}

// necessary counts the calls a campaign cannot do without: the listing's
// pages, a check of each valid row the listing does not show, and the sends.
func necessary(s emulator.Snapshot, rows int) (pages, checks, sends int) {
	listed, accounts := 0, map[string]bool{}
	for _, a := range s.Accounts {
		accounts[a.Email] = true
		if a.Kind == "unmanaged" && !a.Recent {
			listed++
		}
		sends += a.Sends
	}
	pages = (listed + 199) / 200
	return pages, rows - listed, sends
}

// BenchmarkCampaignAtQuota: one rolling quota of 120 requests per minute
// shared by every call, 50 ms latency, the 400-row sample campaign: plan
// and apply's wall time over the time the necessary calls take at the
// quota (target ≤ 1.15), and the share of calls rejected (target ≤ 3%).
func BenchmarkCampaignAtQuota(b *testing.B) {
	w, csv := benchCampaign(b)
	for b.Loop() {
		srv, err := emulator.New(w, emulator.Config{Latency: 50 * time.Millisecond, Quota: emulator.Quota{RequestsPerMinute: 120}})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		dir := b.TempDir()
		input := filepath.Join(dir, "campaign.csv")
		if err := os.WriteFile(input, []byte(csv), 0o600); err != nil {
			b.Fatal(err)
		}
		plan := filepath.Join(dir, "plan.jsonl")
		start := time.Now()
		invoke(b, hs.URL, w.Customer, dir, []int{0}, "plan", input, "-o", plan, "--no-progress")
		planned := time.Since(start)
		invoke(b, hs.URL, w.Customer, dir, []int{0, 3}, "apply", plan, "--yes", "--no-progress")
		elapsed := time.Since(start)
		hs.Close()
		st := srv.State()
		pages, checks, sends := necessary(st, 400)
		calls := 0
		for _, n := range st.Calls {
			calls += n
		}
		ideal := time.Duration(pages+checks+sends) * time.Minute / 120
		b.ReportMetric(elapsed.Seconds()/ideal.Seconds(), "wall/ideal")
		b.ReportMetric(float64(st.QuotaRejections["read"]+st.QuotaRejections["write"])/float64(calls), "rejected/call")
		b.ReportMetric(planned.Seconds(), "plan-s")
		b.ReportMetric(elapsed.Seconds(), "total-s")
		b.Logf("necessary calls: %d pages, %d checks, %d sends (ideal %s); made %v", pages, checks, sends, ideal, st.Calls)
	}
}

// BenchmarkApplyWritesPerMinute: 180 writes per minute in fixed (wall-clock)
// minutes, reads free: apply's time over the sends at 3/s, with the 429's
// metadata (target ≤ 1.15) and without it (target ≤ 1.3).
func BenchmarkApplyWritesPerMinute(b *testing.B) {
	const n = 360
	w := emulator.World{Customer: "C0bench1"}
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range n {
		e := fmt.Sprintf("person%03d@acme-corp.example", i)
		w.Users = append(w.Users, emulator.User{Email: e})
		csv.WriteString(e + "\n")
	}
	for _, bare := range []bool{false, true} {
		b.Run(fmt.Sprintf("details=%v", !bare), func(b *testing.B) {
			for b.Loop() {
				srv, err := emulator.New(w, emulator.Config{Latency: 50 * time.Millisecond,
					Quota: emulator.Quota{WritesPerMinute: 180, Window: emulator.WindowFixed, Bare: bare}})
				if err != nil {
					b.Fatal(err)
				}
				hs := httptest.NewServer(srv)
				dir := b.TempDir()
				input := filepath.Join(dir, "campaign.csv")
				if err := os.WriteFile(input, []byte(csv.String()), 0o600); err != nil {
					b.Fatal(err)
				}
				plan := filepath.Join(dir, "plan.jsonl")
				invoke(b, hs.URL, w.Customer, dir, []int{0}, "plan", input, "-o", plan, "--no-progress")
				start := time.Now()
				invoke(b, hs.URL, w.Customer, dir, []int{0}, "apply", plan, "--yes", "--no-progress")
				elapsed := time.Since(start)
				hs.Close()
				st := srv.State()
				ideal := time.Duration(n) * time.Second / 3
				b.ReportMetric(elapsed.Seconds()/ideal.Seconds(), "wall/ideal")
				b.ReportMetric(float64(st.QuotaRejections["write"])/float64(st.Calls["send"]), "rejected/send")
			}
		})
	}
}
