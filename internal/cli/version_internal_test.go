package cli

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/tune-hpo/tune", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "plan9"}}}
	want := versionInfo{Module: "github.com/tune-hpo/tune", Version: "v1.2.3", Commit: "abc123", Time: "2026-12-01T10:00:00Z", Modified: true,
		GoVersion: "go1.99.1", Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if diff := cmp.Diff(want, readVersion(bi)); diff != "" {
		t.Errorf("readVersion (-want +got):\n%s", diff)
	}
	bi.Settings[2].Value = "false"
	if readVersion(bi).Modified {
		t.Error("vcs.modified=false read as modified")
	}
	if got := readVersion(nil); got.Version != "unknown" || got.GoVersion != runtime.Version() || got.Commit != "" {
		t.Errorf("readVersion(nil) = %+v", got)
	}
}
