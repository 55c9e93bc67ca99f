package main

import (
	"io/fs"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// closingPipe is a standard output whose reader goes away after the first
// line (invitectl list | head -1): every later write fails as a write to a
// closed pipe does.
type closingPipe struct {
	mu   sync.Mutex
	got  strings.Builder
	gone bool
}

func (p *closingPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		return 0, &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
	}
	p.got.Write(b)
	p.gone = strings.Contains(p.got.String(), "\n")
	return len(b), nil
}

// A closed standard output ends a command quietly, with the code a shell
// reports for a command SIGPIPE ended, and stops its work: list asks for no
// more pages. apply, whose results are in its journal and CSV, keeps the
// exit code of its run.
func TestClosedStdout(t *testing.T) {
	for _, args := range [][]string{
		{"list", "--format", "table"},
		{"list", "--format", "csv"},
		{"list", "--format", "json"},
		{"get", "ada.berg@acme-corp.example", "omar.eriksen@acme-corp.example", "hana.ito@acme-corp.example"},
		{"report", "RESULTS"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			s := newTestStreams(t)
			srv := s.emulate(t, emulator.Config{})
			if args[0] == "report" {
				plan := planned(t, s)
				if code := s.run("apply", plan, "--yes", "--no-progress"); code != 0 {
					t.Fatalf("apply: exit %d\n%s", code, s.errOut.String())
				}
				args = []string{"report", strings.TrimSuffix(plan, ".jsonl") + ".results.jsonl"}
			}
			s.ios.out = &closingPipe{}
			s.errOut.Reset()
			if code := s.run(args...); code != exitClosedPipe || s.errOut.String() != "" {
				t.Errorf("exit %d, want %d and nothing on stderr; stderr:\n%s", code, exitClosedPipe, s.errOut.String())
			}
			if n := srv.State().Calls["list"]; args[0] == "list" && n != 1 {
				t.Errorf("%d list calls after stdout was closed on the first page, want 1", n)
			}
		})
	}

	s := newTestStreams(t)
	srv := s.emulate(t, emulator.Config{})
	plan := planned(t, s)
	s.ios.out = &closingPipe{}
	if code := s.run("apply", plan, "--yes", "--no-progress"); code != 0 || strings.Contains(s.errOut.String(), "invitectl:") ||
		!strings.Contains(s.errOut.String(), "Results: ") || srv.State().Calls["send"] != 3 {
		t.Errorf("apply with stdout closed: exit %d, %d sends\n%s", code, srv.State().Calls["send"], s.errOut.String())
	}
}
