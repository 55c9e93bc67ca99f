package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// readBuildInfo is the build information the Go toolchain embeds in the
// binary; nil when there is none.
func readBuildInfo() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

// versionText says which invitectl this is: the module version ("(devel)"
// for a build from a checkout, a tag such as v1.2.0 for `go install
// …@v1.2.0`), the VCS revision and time the go command stamps into a build
// from a git checkout (-buildvcs), whether the checkout had uncommitted
// changes, and the Go version and platform.
func versionText(bi *debug.BuildInfo) string {
	version, goVersion := "unknown", runtime.Version()
	settings := map[string]string{}
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invitectl %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified: built with uncommitted changes)"
		}
		fmt.Fprintf(&b, "revision  %s\n", rev)
	} else {
		fmt.Fprintf(&b, "revision  unknown (no VCS stamp: built outside a git checkout, or with -buildvcs=false)\n")
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "committed %s\n", t)
	}
	fmt.Fprintf(&b, "go        %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "Print the version, the VCS revision and the Go version (also --version)",
		Args:        usageArgs(cobra.NoArgs),
		Annotations: map[string]string{annotSetup: "none"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), cmd.Root().Version)
			return err
		},
	}
}
