package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// What tune's collector in a pod is made of (see [PodConfig]).
const (
	// PodDir is where the trial pod's init container installs tune, in an
	// emptyDir volume the primary container mounts too; the Push
	// collector's socket lives there.
	PodDir = "/opt/tune-collector"
	// PodPrefix starts each line tune's collector in a pod writes to the
	// primary container's standard output; what follows is one JSON
	// object (a [metrics.Log], {"line": ...} or {"warning": ...}).
	PodPrefix = "tune-collector: "
	// DefaultImage is the image the init container takes tune from
	// unless told otherwise: tune's own (examples/in-cluster/Dockerfile),
	// with the tune binary on its PATH.
	DefaultImage = "ghcr.io/tune-hpo/tune:latest"
)

// PodConfig is what tune's collector in a trial's pod needs: the
// experiment's collector with the paths and the port as the trial sees
// them inside its container. It travels as the JSON argument of `tune
// collector run --config`.
type PodConfig struct {
	Kind    Kind     `json:"kind"`
	Path    string   `json:"path,omitempty"`
	Metrics []string `json:"metrics,omitempty"`
	Port    int      `json:"port,omitempty"`
	URLPath string   `json:"urlPath,omitempty"`
	// PushSocket is the Unix socket the Push collector's endpoint listens
	// on, in [PodDir].
	PushSocket string `json:"pushSocket,omitempty"`
}

// podWaitDelay is how long RunInPod reads the program's standard output
// after the program has exited, for what processes it left behind still
// write.
const podWaitDelay = 5 * time.Second

// forwarded is one line tune's collector in a pod writes after
// [PodPrefix]: a value it read (TensorFlowEvent, PrometheusMetric, Push),
// a line of the metrics file for tune to parse (File), or a warning.
type forwarded struct {
	*metrics.Log
	Line    *string `json:"line,omitempty"`
	Warning string  `json:"warning,omitempty"`
}

// podConfig returns c as tune's collector in a pod takes it.
func (c Config) podConfig() PodConfig {
	pc := PodConfig{Kind: c.Kind, Metrics: c.Metrics}
	switch c.Kind {
	case File, TensorFlowEvent:
		pc.Path = c.Path
	case PrometheusMetric:
		pc.Port, pc.URLPath = c.Port, c.URLPath
	case Push:
		pc.PushSocket = PodDir + "/report.sock"
	}
	return pc
}

// PodCollector returns what an executor whose trials run in pods
// ([trial.PodCollectors]) needs to run collector cfg inside each trial's
// primary container (see [trial.PodCollector]), without its Line
// function; nil for collectors that read the trial's output.
func PodCollector(cfg Config) (*trial.PodCollector, error) {
	switch cfg.Kind {
	case File, TensorFlowEvent, PrometheusMetric, Push:
	default:
		return nil, nil
	}
	if (cfg.Kind == File || cfg.Kind == TensorFlowEvent) && !path.IsAbs(cfg.Path) {
		return nil, fmt.Errorf("source.fileSystemPath.path %q: the path inside the trial's container must be absolute", cfg.Path)
	}
	data, err := json.Marshal(cfg.podConfig())
	if err != nil {
		return nil, fmt.Errorf("encoding the collector's configuration: %w", err)
	}
	pc := &trial.PodCollector{
		InstallDir: PodDir,
		Install:    []string{"tune", "collector", "install", PodDir},
		Command:    []string{PodDir + "/tune", "collector", "run", "--config", string(data), "--"},
		Prefix:     PodPrefix,
	}
	if dir, ok := MountTarget(cfg.Kind, cfg.Path); ok {
		pc.Dirs = []string{dir}
	}
	return pc, nil
}

// forTrialInPod is [Collectors.ForTrial] for trials whose collector runs
// in their pod: the collector returned takes the lines it forwards
// (through Needs.Pod.Line) and reports them as t's.
func (c *Collectors) forTrialInPod(t Trial) (metrics.Collector, Needs, error) {
	pc, err := PodCollector(c.cfg)
	if pc == nil || err != nil {
		return nil, Needs{}, err
	}
	fc := &forwardedCollector{emit: t.Emit, warn: t.Warn, shown: c.cfg.Path}
	if c.cfg.Kind == File {
		if fc.parse, err = c.cfg.fileParser(); err != nil {
			return nil, Needs{}, err
		}
	}
	pc.Line = fc.line
	return fc, Needs{Pod: pc}, nil
}

// forwardedCollector reports what tune's collector in a trial's pod
// forwards through the primary container's log.
type forwardedCollector struct {
	parse func(line []byte, now time.Time) ([]metrics.Log, []string)
	emit  func(metrics.Log)
	warn  func(string)
	shown string
}

// Collect waits for the trial to end: the values arrive through line.
func (c *forwardedCollector) Collect(ctx context.Context) { <-ctx.Done() }

// line takes one line the collector in the pod wrote, without
// [PodPrefix].
func (c *forwardedCollector) line(b []byte) {
	var f forwarded
	if err := json.Unmarshal(b, &f); err != nil {
		c.warn(fmt.Sprintf("tune's collector in the pod wrote %.80q, which is not what it writes (%v); ignored", b, err))
		return
	}
	switch {
	case f.Warning != "":
		c.warn(f.Warning)
	case f.Line != nil:
		logs, invalid := c.parse([]byte(*f.Line), time.Now())
		for _, l := range logs {
			c.emit(l)
		}
		for _, bad := range invalid {
			c.warn(fmt.Sprintf("metrics file %s: %s is not a finite metric value; ignored", c.shown, bad))
		}
	case f.Log != nil && f.Metric != "":
		c.emit(*f.Log)
	}
}

// RunInPod runs argv, the trial's program, as tune's collector in a pod
// runs it: its standard output copied to stdout line by line, its standard
// error inherited, the collector of cfg following what it writes (or
// serving its endpoint) and writing each value, file line and warning to
// stdout after [PodPrefix], whole lines that never split one of the
// program's. The program's environment names what the collector reads
// (TUNE_METRICS_PATH, TUNE_METRICS_PORT, TUNE_REPORT_URL and
// TUNE_REPORT_TOKEN, as for local trials), and its PATH ends with the
// directory of the running tune, so that `tune report` works. When ctx is done the program gets SIGTERM. Once it has
// exited, the collector reads what is left and RunInPod returns the
// program's exit status (128 plus the signal's number when a signal
// killed it). A program that cannot be started is an error.
func RunInPod(ctx context.Context, cfg PodConfig, argv []string, stdout io.Writer, stderr io.Writer) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("no command to run")
	}
	switch {
	case cfg.Kind != File && cfg.Kind != TensorFlowEvent && cfg.Kind != PrometheusMetric && cfg.Kind != Push:
		return 0, fmt.Errorf("collector kind %q: want File, TensorFlowEvent, PrometheusMetric or Push", cfg.Kind)
	case (cfg.Kind == File || cfg.Kind == TensorFlowEvent) && cfg.Path == "":
		return 0, fmt.Errorf("collector kind %s: no path", cfg.Kind)
	case cfg.Kind == PrometheusMetric && cfg.Port <= 0:
		return 0, fmt.Errorf("collector kind %s: no port", cfg.Kind)
	case cfg.Kind == Push && cfg.PushSocket == "":
		return 0, fmt.Errorf("collector kind %s: no pushSocket", cfg.Kind)
	}
	out := &podOutput{w: stdout}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = os.Stdin
	cmd.Stderr = stderr
	lines := metrics.NewLineWriter(0, func(line []byte) { out.write(nil, line) })
	cmd.Stdout = lines
	// A process the program leaves behind holding its standard output
	// must not keep the container running once the program has exited.
	cmd.WaitDelay = podWaitDelay
	cmd.Env = os.Environ()

	cols := New(Config{Kind: cfg.Kind, Path: cfg.Path, Metrics: cfg.Metrics, Port: cfg.Port, URLPath: cfg.URLPath, PushAddress: "unix:" + cfg.PushSocket, asIs: true})
	defer cols.Close()
	t := Trial{Name: "trial", Emit: out.value, Warn: out.warning, line: out.line}
	col, needs, err := cols.ForTrial(t)
	if err != nil {
		return 0, err
	}
	cmd.Env = append(cmd.Env, needs.Env...)
	if self, err := os.Executable(); err == nil {
		// `tune report` works in the pod: the installed tune is on PATH,
		// after the image's own programs.
		cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Dir(self))
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	colCtx, stopCol := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if col != nil {
		wg.Go(func() { col.Collect(colCtx) })
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		werr = <-waited
	}
	lines.Close()
	stopCol()
	wg.Wait()
	return exitStatus(cmd, werr), nil
}

// exitStatus is the shell's view of how cmd ended.
func exitStatus(cmd *exec.Cmd, err error) int {
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		return 128 + int(st.Signal())
	}
	if cmd.ProcessState != nil {
		return cmd.ProcessState.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// podOutput writes the program's lines and the collector's to one stream
// without splitting either.
type podOutput struct {
	mu sync.Mutex
	w  io.Writer
}

// write writes prefix and line (without its newline) as one line.
func (o *podOutput) write(prefix, line []byte) {
	buf := make([]byte, 0, len(prefix)+len(line)+1)
	buf = append(append(append(buf, prefix...), line...), '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Write(buf)
}

func (o *podOutput) forward(f forwarded) {
	data, err := json.Marshal(f)
	if err != nil {
		return // a metrics.Log and strings always encode
	}
	o.write([]byte(PodPrefix), data)
}

func (o *podOutput) value(l metrics.Log) { o.forward(forwarded{Log: &l}) }

func (o *podOutput) warning(w string) { o.forward(forwarded{Warning: w}) }

func (o *podOutput) line(b []byte) {
	s := string(b)
	o.forward(forwarded{Line: &s})
}

// Install copies the running executable to dir/tune (mode 0755), for
// trial pods' init container.
func Install(dir string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding tune's executable: %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("reading tune's executable: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("installing tune: %w", err)
	}
	dst := path.Join(dir, "tune")
	tmp, err := os.CreateTemp(dir, ".tune-*")
	if err != nil {
		return fmt.Errorf("installing tune: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("installing tune at %s: %w", dst, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("installing tune at %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("installing tune at %s: %w", dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("installing tune at %s: %w", dst, err)
	}
	return nil
}
