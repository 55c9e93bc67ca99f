package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/invitectl/invitectl/pkg/emulator"
)

// testStreams is the terminal seam for a test, after gh's iostreams.Test():
// buffers for the three streams, no terminal unless set, a terminal width
// that can be set, and an environment of the test's own whose ledgers and
// configuration live in temporary folders.
type testStreams struct {
	ios         ioStreams
	in          *strings.Reader
	out, errOut *syncBuffer
	env         map[string]string
	width       int
}

func newTestStreams(t *testing.T) *testStreams {
	t.Helper()
	s := &testStreams{in: strings.NewReader(""), out: &syncBuffer{}, errOut: &syncBuffer{}, env: map[string]string{
		"INVITECTL_STATE_DIR": t.TempDir(), "INVITECTL_CONFIG_DIR": t.TempDir(),
	}}
	s.ios = ioStreams{in: s.in, out: s.out, errOut: s.errOut,
		getenv: func(k string) string { return s.env[k] },
		width:  func() int { return s.width }}
	return s
}

// setTTY says which of stdin, stdout and stderr are terminals; a stdout
// terminal understands colour.
func (s *testStreams) setTTY(stdin, stdout, stderr bool) {
	s.ios.stdinTTY, s.ios.stdoutTTY, s.ios.stderrTTY, s.ios.ansi = stdin, stdout, stderr, stdout
}

// setWidth sets the terminal's width in columns (0: unknown).
func (s *testStreams) setWidth(n int) { s.width = n }

// setInput is what standard input holds.
func (s *testStreams) setInput(text string) { s.in.Reset(text) }

// run runs invitectl in-process and returns its exit code; the streams
// keep what it printed.
func (s *testStreams) run(args ...string) int {
	return run(args, s.ios)
}

// emulate serves the sample world in-process and points the streams'
// environment at it.
func (s *testStreams) emulate(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	world, err := loadWorld("")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(world, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s.env["INVITECTL_ENDPOINT"] = hs.URL
	s.env["INVITECTL_CUSTOMER"] = world.Customer
	return srv
}
