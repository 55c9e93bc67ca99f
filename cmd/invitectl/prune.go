package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
)

// confirmPrune holds back a plan whose prune cancels more than
// planner.PruneAlarm allows without a word: --yes-prune, or the count typed
// at the prompt. --yes alone is not enough: it is the flag scripts carry,
// and a short input cancels almost everything.
func (a *app) confirmPrune(ctx context.Context, h planner.Header, sum planner.Summary, path string, yes bool) error {
	n, alarm := planner.PruneAlarm(h, sum)
	if alarm == "" || yes {
		return nil
	}
	p := safetext.Terminal(path)
	if !a.io.stdinTTY {
		return usagef("not applying %s: it cancels %s the input does not name (--prune); check the plan, then pass --yes-prune", p, words.Count(int64(n), "invitation", "invitations"))
	}
	fmt.Fprintln(a.io.errOut, alarm)
	fmt.Fprintf(a.io.errOut, "To cancel them, type the number of invitations to cancel (%d): ", n)
	line, err := interruptible(ctx, func() (string, error) { return readLine(a.io.in) })
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

// interruptible runs a read that may block for good (a prompt, a pipe, a
// FIFO) and returns when it does, or with ctx's error when ctx ends first
// (Ctrl-C): the read is then abandoned, as the command is ending.
func interruptible[T any](ctx context.Context, read func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := read()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
