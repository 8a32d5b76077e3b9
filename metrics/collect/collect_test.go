package collect_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/metrics/push"
	"github.com/tune-hpo/tune/trial"
)

func TestKinds(t *testing.T) {
	want := []collect.Kind{"StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push"}
	if got := collect.Kinds(); !slices.Equal(got, want) {
		t.Errorf("Kinds() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		kind                           collect.Kind
		supported, onHost, readsOutput bool
	}{
		{"", false, false, true},
		{collect.StdOut, true, false, true},
		{collect.File, true, true, false},
		{collect.TensorFlowEvent, true, true, false},
		{collect.PrometheusMetric, true, true, false},
		{collect.Push, true, true, false},
		{collect.Custom, false, false, false},
		{"Sidecar", false, false, false},
	} {
		if got := tc.kind.Supported(); got != tc.supported {
			t.Errorf("%q.Supported() = %v", tc.kind, got)
		}
		if got := tc.kind.OnHost(); got != tc.onHost {
			t.Errorf("%q.OnHost() = %v", tc.kind, got)
		}
		if got := tc.kind.ReadsOutput(); got != tc.readsOutput {
			t.Errorf("%q.ReadsOutput() = %v", tc.kind, got)
		}
	}
}

func TestMountTarget(t *testing.T) {
	for _, tc := range []struct {
		kind   collect.Kind
		path   string
		target string
		ok     bool
	}{
		{collect.File, "/var/log/katib/metrics.log", "/var/log/katib", true},
		{collect.TensorFlowEvent, "/var/log/katib/tfevent/", "/var/log/katib/tfevent", true},
		{collect.File, "metrics.log", "", false},
		{collect.PrometheusMetric, "/metrics", "", false},
	} {
		target, ok := collect.MountTarget(tc.kind, tc.path)
		if target != tc.target || ok != tc.ok {
			t.Errorf("MountTarget(%s, %q) = %q, %v; want %q, %v", tc.kind, tc.path, target, ok, tc.target, tc.ok)
		}
	}
}

func TestCheckMountTarget(t *testing.T) {
	dir := t.TempDir()
	if err := collect.CheckMountTarget(dir); err != nil {
		t.Errorf("empty directory refused: %v", err)
	}
	if err := collect.CheckMountTarget(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing directory refused: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "train.sh"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := collect.CheckMountTarget(dir)
	if err == nil || !strings.Contains(err.Error(), "train.sh") || !strings.Contains(err.Error(), "$(TUNE_METRICS_PATH)") {
		t.Errorf("directory with files: error %v, want one naming train.sh and $(TUNE_METRICS_PATH)", err)
	}
}

// sink records what a collector emits and warns about.
type sink struct {
	mu       sync.Mutex
	logs     []metrics.Log
	warnings []string
}

func (s *sink) trial(name, dir string) collect.Trial {
	return collect.Trial{
		Name: name, Dir: dir,
		Emit: func(l metrics.Log) { s.mu.Lock(); s.logs = append(s.logs, l); s.mu.Unlock() },
		Warn: func(w string) { s.mu.Lock(); s.warnings = append(s.warnings, w); s.mu.Unlock() },
	}
}

// done is a context already cancelled: Collect reads once and returns.
func done() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func env(needs collect.Needs, key string) (string, bool) {
	for _, kv := range needs.Env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestFileForTrial: a File collector's trial gets its own copy of the
// metrics file under its directory (TUNE_METRICS_PATH), mounted at the
// experiment's directory, and the collector reads what the trial wrote.
func TestFileForTrial(t *testing.T) {
	target := filepath.Join(t.TempDir(), "katib") // absent: mountable
	parser, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	c := collect.New(collect.Config{Kind: collect.File, Path: filepath.ToSlash(filepath.Join(target, "metrics.log")), Format: "TEXT", Text: parser, Metrics: []string{"loss"}})
	var s sink
	dir := t.TempDir()
	col, needs, err := c.ForTrial(s.trial("t-1", dir))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := env(needs, collect.EnvMetricsPath)
	if want := filepath.Join(dir, target, "metrics.log"); !ok || p != want {
		t.Fatalf("%s = %q, %v; want %q", collect.EnvMetricsPath, p, ok, want)
	}
	if want := []trial.Mount{{Source: filepath.Dir(p), Target: filepath.ToSlash(target)}}; !slices.Equal(needs.Mounts, want) {
		t.Errorf("mounts %v, want %v", needs.Mounts, want)
	}
	if err := os.WriteFile(p, []byte("loss=0.5\nloss=oops\nloss=0.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	col.Collect(done())
	if len(s.logs) != 2 || s.logs[0].Value != 0.5 || s.logs[1].Value != 0.25 {
		t.Errorf("collected %v, want loss 0.5 and 0.25", s.logs)
	}
	if len(s.warnings) != 1 || !strings.Contains(s.warnings[0], "oops") {
		t.Errorf("warnings %q, want one about oops", s.warnings)
	}
}

// TestFileForTrialFilledTarget: a mount target filled since the experiment
// was checked is left out, with a warning; the trial still gets its path.
func TestFileForTrialFilledTarget(t *testing.T) {
	target := t.TempDir()
	if err := os.WriteFile(filepath.Join(target, "data.csv"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := collect.New(collect.Config{Kind: collect.TensorFlowEvent, Path: filepath.ToSlash(target), Metrics: []string{"loss"}})
	var s sink
	col, needs, err := c.ForTrial(s.trial("t-1", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if len(needs.Mounts) != 0 {
		t.Errorf("mounts %v over a directory with files", needs.Mounts)
	}
	if _, ok := env(needs, collect.EnvMetricsPath); !ok {
		t.Errorf("no %s in %v", collect.EnvMetricsPath, needs.Env)
	}
	if len(s.warnings) != 1 || !strings.Contains(s.warnings[0], "is not made to appear inside the trial") {
		t.Errorf("warnings %q, want one saying the directory does not appear", s.warnings)
	}
	col.Collect(done())
	if last := s.warnings[len(s.warnings)-1]; !strings.Contains(last, "no TensorFlow event file") {
		t.Errorf("last warning %q, want one saying the trial wrote no event file", last)
	}
}

func TestForTrialWithoutDir(t *testing.T) {
	c := collect.New(collect.Config{Kind: collect.File, Path: "/var/log/katib/metrics.log", Format: "TEXT"})
	var s sink
	if _, _, err := c.ForTrial(s.trial("t-1", "")); err == nil || !strings.Contains(err.Error(), "t-1") {
		t.Errorf("error %v, want one naming the trial", err)
	}
}

func TestStdOutForTrial(t *testing.T) {
	for _, kind := range []collect.Kind{"", collect.StdOut, collect.Custom} {
		var s sink
		col, needs, err := collect.New(collect.Config{Kind: kind}).ForTrial(s.trial("t-1", t.TempDir()))
		if col != nil || needs.Env != nil || needs.Mounts != nil || err != nil {
			t.Errorf("%q: %v, %v, %v; want nothing", kind, col, needs, err)
		}
	}
}

// TestPrometheusPort: a trial gets the experiment's port, or a free one of
// its own when trials run in parallel.
func TestPrometheusPort(t *testing.T) {
	var s sink
	_, needs, err := collect.New(collect.Config{Kind: collect.PrometheusMetric, Port: 8080, URLPath: "/metrics"}).ForTrial(s.trial("t-1", ""))
	if err != nil {
		t.Fatal(err)
	}
	if port, _ := env(needs, collect.EnvMetricsPort); port != "8080" {
		t.Errorf("%s = %q, want 8080", collect.EnvMetricsPort, port)
	}
	_, needs, err = collect.New(collect.Config{Kind: collect.PrometheusMetric, Port: 8080, URLPath: "/metrics", FreePort: true}).ForTrial(s.trial("t-2", ""))
	if err != nil {
		t.Fatal(err)
	}
	if port, ok := env(needs, collect.EnvMetricsPort); !ok || port == "8080" || port == "0" {
		t.Errorf("%s = %q, %v; want a free port", collect.EnvMetricsPort, port, ok)
	}
}

// TestPushForTrial: Push trials share one endpoint, each with its own
// token, until Close.
func TestPushForTrial(t *testing.T) {
	c := collect.New(collect.Config{Kind: collect.Push, Metrics: []string{"loss"}, PushAddress: "127.0.0.1:0"})
	var s sink
	_, a, err := c.ForTrial(s.trial("t-1", ""))
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := c.ForTrial(s.trial("t-2", ""))
	if err != nil {
		t.Fatal(err)
	}
	urlA, _ := env(a, push.EnvURL)
	urlB, _ := env(b, push.EnvURL)
	tokenA, _ := env(a, push.EnvToken)
	tokenB, _ := env(b, push.EnvToken)
	if urlA == "" || urlA != urlB || tokenA == "" || tokenA == tokenB {
		t.Errorf("URLs %q, %q and tokens %q, %q; want one URL and two tokens", urlA, urlB, tokenA, tokenB)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
