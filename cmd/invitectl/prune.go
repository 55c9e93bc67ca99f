package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/planner"
)

// confirmPrune holds back a plan whose prune cancels more than
// planner.PruneAlarm allows without a word: --yes-prune, or the count typed
// at the prompt. --yes alone is not enough: it is the flag scripts carry,
// and a short input cancels almost everything.
func (a *app) confirmPrune(h planner.Header, sum planner.Summary, path string, yes bool) error {
	n, alarm := planner.PruneAlarm(h, sum)
	if alarm == "" || yes {
		return nil
	}
	p := safetext.Terminal(path)
	if !a.io.stdinTTY {
		return usagef("not applying %s: it cancels %d invitation(s) the input does not name (--prune); check the plan, then pass --yes-prune", p, n)
	}
	fmt.Fprintln(a.io.errOut, alarm)
	fmt.Fprintf(a.io.errOut, "To cancel them, type the number of invitations to cancel (%d): ", n)
	line, err := readLine(a.io.in)
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != strconv.Itoa(n) {
		return usagef("not applying %s: the number typed was not %d", p, n)
	}
	return nil
}

// readLine reads one answer, byte by byte, so that a second prompt reads
// the next line rather than what a buffer took ahead.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
	}
}
