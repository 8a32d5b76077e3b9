package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/internal/output"
)

// versionInfo is what tune version prints.
type versionInfo struct {
	// Module is the main module's path; Version its version: a tag, a
	// pseudo-version, or "(devel)" for a build from a checkout.
	Module  string `json:"module"`
	Version string `json:"version"`
	// Commit and Time are the VCS revision and its time, and Modified
	// whether the work tree had changes; empty and false when the build
	// did not record them (go build -buildvcs=false, go test).
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commitTime,omitempty"`
	Modified bool   `json:"modified"`
	// GoVersion is the Go toolchain that built the binary; Platform its
	// GOOS/GOARCH.
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// readVersion extracts the version information from bi; bi may be nil
// (a binary built without module support).
func readVersion(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: "unknown", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return v
	}
	v.Module = bi.Main.Path
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func newVersionCommand(f *factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print tune's version, commit and Go version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			of, err := documentFormat(format)
			if err != nil {
				return err
			}
			bi, _ := debug.ReadBuildInfo()
			v := readVersion(bi)
			if of != output.Table {
				return writeData(f.io.Out, of, v, false)
			}
			commit := "unknown (built without VCS information)"
			if v.Commit != "" {
				commit = v.Commit
				if v.Modified {
					commit += " (modified)"
				}
				if v.Time != "" {
					commit += ", " + v.Time
				}
			}
			_, err = fmt.Fprintln(f.io.Out, escapeControl(fmt.Sprintf("tune %s\nmodule: %s\ncommit: %s\ngo: %s %s", v.Version, v.Module, commit, v.GoVersion, v.Platform), true))
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", string(output.Table), "output format: "+documentFormats)
	return cmd
}
