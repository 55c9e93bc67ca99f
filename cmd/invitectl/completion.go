package main

import (
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/source"
)

// flagValues are the values shell completion offers, by flag name, on
// every command that has the flag. --format is not here: its values differ
// by command (formatValues).
func flagValues() map[string][]string {
	var states []string
	for _, s := range invitations.States {
		states = append(states, strings.ToLower(string(s)))
	}
	return map[string][]string{
		"state":        states,
		"action":       {"invite", "cancel"},
		"api-version":  {invitations.V1, invitations.V1Beta1},
		"order-by":     {"email", "email:desc", "update_time", "update_time:desc"},
		"log-format":   {"text", "json"},
		"encoding":     source.Encodings,
		"delimiter":    {",", ";", "tab"},
		"quota-window": {string(emulator.WindowRolling), string(emulator.WindowFixed)},
	}
}

var formatWord = regexp.MustCompile(`\b(table|json|csv|text)\b`)

// formatValues are the formats a command's --format offers, as its help
// names them ("output: table, json or csv"), so that completion follows
// the help when a format is added.
func formatValues(f *pflag.Flag) []string {
	var out []string
	for _, w := range formatWord.FindAllString(f.Usage, -1) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// registerCompletions makes shell completion (`invitectl completion bash`,
// zsh, fish, powershell) complete flag values, not only flag names: the
// fixed values above, each command's formats, and the profiles of the
// configuration file.
func registerCompletions(a *app, root *cobra.Command) {
	values := flagValues()
	_ = root.RegisterFlagCompletionFunc("profile", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		names, err := profileNames(a.io.env)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, toComplete) }), cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		// Persistent flags are registered once, on the command that owns them.
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) { register(c, f, values) })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { register(c, f, values) })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func register(c *cobra.Command, f *pflag.Flag, values map[string][]string) {
	vals, ok := values[f.Name]
	if f.Name == "format" {
		vals, ok = formatValues(f), true
	}
	if !ok || len(vals) == 0 {
		return
	}
	list := f.Value.Type() == "stringSlice"
	_ = c.RegisterFlagCompletionFunc(f.Name, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if !list {
			var out []string
			for _, v := range vals {
				if strings.HasPrefix(v, toComplete) {
					out = append(out, v)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		// A comma-separated list: complete its last item after the others.
		i := strings.LastIndexByte(toComplete, ',')
		prefix, have := toComplete[:i+1], strings.Split(toComplete[:max(i, 0)], ",")
		var out []string
		for _, v := range vals {
			if !slices.Contains(have, v) && strings.HasPrefix(prefix+v, toComplete) {
				out = append(out, prefix+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}
