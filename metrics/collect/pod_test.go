package collect_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/metrics/push"
	"github.com/tune-hpo/tune/metrics/tfevent/tfeventtest"
)

// childEnv selects what this test binary does when RunInPod starts it as
// the trial's program (see TestMain).
const childEnv = "TUNE_COLLECT_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child plays a trial program inside a pod: it reports loss 0.5 then 0.25
// through the collector of mode, and prints an ordinary line and a decoy
// line ("loss=999") that only the StdOut collector would read.
func child(mode string) int {
	fmt.Println("training starts")
	fmt.Println("loss=999")
	// A line written in pieces, to show that the collector's lines never
	// cut into the program's.
	for _, piece := range []string{"epoch", " 1", " of", " 2\n"} {
		os.Stdout.WriteString(piece)
		time.Sleep(time.Millisecond)
	}
	switch mode {
	case "file":
		f, err := os.OpenFile(os.Getenv(collect.EnvMetricsPath), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(f, "loss=0.5")
		fmt.Fprintln(f, "loss=0.25")
		f.Close()
	case "tfevent":
		dir := os.Getenv(collect.EnvMetricsPath)
		var data []byte
		for i, v := range []float32{0.5, 0.25} {
			data = append(data, tfeventtest.Scalar(1.7e9, int64(i+1), []string{"loss"}, []float32{v})...)
		}
		if err := os.WriteFile(filepath.Join(dir, "events.out.tfevents.1.pod"), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "prom":
		var scraped atomic.Int32
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv(collect.EnvMetricsPort))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "# TYPE loss gauge\nloss 0.25")
			scraped.Add(1)
		}))
		for scraped.Load() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	case "push":
		err := push.Report(context.Background(), os.Getenv(push.EnvURL), os.Getenv(push.EnvToken), push.Request{Metrics: []push.Metric{{Name: "loss", Value: 0.5, Step: 1}, {Name: "loss", Value: 0.25, Step: 2}}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "exit3":
		fmt.Fprintln(os.Stderr, "diverged")
		return 3
	case "wait":
		fmt.Println("waiting")
		time.Sleep(time.Minute)
	}
	fmt.Println("training done")
	return 0
}

// podRun runs this test binary in mode as RunInPod runs a trial program,
// and returns the program's exit status, the lines of standard output that
// are not the collector's, and what tune records from the collector's
// lines (through the collector Collectors.ForTrial returns for trials in
// pods).
func podRun(t *testing.T, ctx context.Context, cfg collect.Config, mode string) (int, []string, *sink) {
	t.Helper()
	pc, err := collect.PodCollector(cfg)
	if err != nil || pc == nil {
		t.Fatalf("PodCollector(%+v) = %v, %v", cfg, pc, err)
	}
	// The configuration travels as the argument after --config.
	i := slices.Index(pc.Command, "--config")
	var podCfg collect.PodConfig
	if i < 0 || json.Unmarshal([]byte(pc.Command[i+1]), &podCfg) != nil {
		t.Fatalf("command %q has no --config JSON", pc.Command)
	}
	if podCfg.PushSocket != "" {
		// Where the pod's emptyDir would be: a short path (108-byte
		// limit of Unix socket names).
		dir, err := os.MkdirTemp("", "pod")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		podCfg.PushSocket = filepath.Join(dir, "report.sock")
	}
	t.Setenv(childEnv, mode)
	var stdout, stderr bytes.Buffer
	code, err := collect.RunInPod(ctx, podCfg, []string{os.Args[0]}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("RunInPod: %v", err)
	}

	cfg.InPod = true
	var s sink
	col, needs, err := collect.New(cfg).ForTrial(s.trial("t", ""))
	if err != nil || needs.Pod == nil || needs.Pod.Line == nil {
		t.Fatalf("ForTrial in a pod: %v, %+v", err, needs)
	}
	var rest []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), needs.Pod.Prefix); ok {
			needs.Pod.Line([]byte(line))
		} else {
			rest = append(rest, sc.Text())
		}
	}
	col.Collect(done())
	if stderr.Len() > 0 {
		t.Logf("stderr: %s", stderr.String())
	}
	return code, rest, &s
}

// TestRunInPod: for each collector kind, the program's metrics reach tune
// through the collector's lines only (the decoy on standard output is not
// among them), and the program's own lines pass through whole.
func TestRunInPod(t *testing.T) {
	parser, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	free := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	for _, tc := range []struct {
		mode string
		cfg  collect.Config
		want []float64
	}{
		{"file", collect.Config{Kind: collect.File, Path: filepath.Join(t.TempDir(), "katib", "metrics.log"), Text: parser}, []float64{0.5, 0.25}},
		{"tfevent", collect.Config{Kind: collect.TensorFlowEvent, Path: t.TempDir()}, []float64{0.5, 0.25}},
		{"prom", collect.Config{Kind: collect.PrometheusMetric, Port: free(), URLPath: "/metrics"}, []float64{0.25}},
		{"push", collect.Config{Kind: collect.Push}, []float64{0.5, 0.25}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			tc.cfg.Metrics = []string{"loss"}
			if tc.cfg.Kind == collect.File {
				os.MkdirAll(filepath.Dir(tc.cfg.Path), 0o755) // the pod's emptyDir
			}
			code, lines, s := podRun(t, context.Background(), tc.cfg, tc.mode)
			if code != 0 {
				t.Fatalf("exit status %d, want 0", code)
			}
			var got []float64
			for _, l := range s.logs {
				got = append(got, l.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("recorded %v, want %v (warnings %q)", got, tc.want, s.warnings)
			}
			wantLines := []string{"training starts", "loss=999", "epoch 1 of 2", "training done"}
			if !slices.Equal(lines, wantLines) {
				t.Errorf("program's lines %q, want %q", lines, wantLines)
			}
		})
	}
}

// TestRunInPodStatus: the program's exit status is RunInPod's, a program
// stopped by the pod's SIGTERM gives 143, and a missing metrics file is a
// warning that reaches tune.
func TestRunInPodStatus(t *testing.T) {
	parser, _ := metrics.NewTextParser(nil, []string{"loss"})
	cfg := collect.Config{Kind: collect.File, Path: filepath.Join(t.TempDir(), "metrics.log"), Text: parser, Metrics: []string{"loss"}}
	code, _, s := podRun(t, context.Background(), cfg, "exit3")
	if code != 3 {
		t.Errorf("exit status %d, want the program's 3", code)
	}
	if len(s.logs) != 0 || len(s.warnings) != 1 || !strings.Contains(s.warnings[0], "never wrote its metrics file") {
		t.Errorf("recorded %v, warnings %q; want none and the missing file's warning", s.logs, s.warnings)
	}

	// The pod being deleted: the kubelet's SIGTERM reaches tune, which
	// passes it on (here, the context is done before the program even
	// runs; the signal's default action kills it all the same).
	code, lines, _ := podRun(t, done(), cfg, "wait")
	if code != 143 {
		t.Errorf("exit status %d after SIGTERM, want 143 (lines %q)", code, lines)
	}
}

// TestPodCollector: what the executor is asked to put in the pod.
func TestPodCollector(t *testing.T) {
	pc, err := collect.PodCollector(collect.Config{Kind: collect.File, Path: "/var/log/katib/metrics.log", Metrics: []string{"loss"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pc.Dirs, []string{"/var/log/katib"}) || pc.InstallDir != collect.PodDir || pc.Prefix != collect.PodPrefix ||
		pc.Command[0] != collect.PodDir+"/tune" || pc.Command[len(pc.Command)-1] != "--" || !slices.Equal(pc.Install, []string{"tune", "collector", "install", collect.PodDir}) {
		t.Errorf("PodCollector = %+v", pc)
	}
	if _, err := collect.PodCollector(collect.Config{Kind: collect.File, Path: "metrics.log"}); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative File path: %v, want an error asking for an absolute path", err)
	}
	for _, kind := range []collect.Kind{"", collect.StdOut} {
		if pc, err := collect.PodCollector(collect.Config{Kind: kind}); pc != nil || err != nil {
			t.Errorf("PodCollector(%q) = %v, %v; want nothing", kind, pc, err)
		}
	}
	if _, err := collect.RunInPod(context.Background(), collect.PodConfig{Kind: collect.Push}, []string{"true"}, nil, nil); err == nil || !strings.Contains(err.Error(), "pushSocket") {
		t.Errorf("Push without a socket: %v", err)
	}
	if _, err := collect.RunInPod(context.Background(), collect.PodConfig{Kind: collect.TensorFlowEvent, Path: "/x"}, []string{"/nonexistent/program"}, nil, nil); err == nil {
		t.Error("a program that cannot start: no error")
	}
}
