package main

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/pkg/duration"
)

// TestEveryDurationFlagReadsDays walks every command's flags: a duration
// flag made with pflag's own DurationVar would refuse "7d".
func TestEveryDurationFlagReadsDays(t *testing.T) {
	root := newRootCmd(&app{io: ioStreams{getenv: func(string) string { return "" }}})
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			if f.Value.Type() != "duration" {
				return
			}
			n++
			if _, ok := f.Value.(duration.Value); !ok {
				t.Errorf("%s --%s is a %T, not a duration.Value: it refuses days", c.CommandPath(), f.Name, f.Value)
				return
			}
			if err := f.Value.Set("1d12h"); err != nil {
				t.Errorf("%s --%s 1d12h: %v", c.CommandPath(), f.Name, err)
			}
			if f.Value.String() != "1d12h" {
				t.Errorf("%s --%s 1d12h reads back as %q", c.CommandPath(), f.Name, f.Value.String())
			}
		}
		c.LocalFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 10 {
		t.Fatalf("only %d duration flags found; the walk misses some", n)
	}
}
