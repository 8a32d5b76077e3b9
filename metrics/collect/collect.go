package collect

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/push"
	"github.com/tune-hpo/tune/metrics/tfevent"
	"github.com/tune-hpo/tune/trial"
)

// The environment variables a trial gets from its collector.
const (
	// EnvMetricsPath is the file or directory a File or TensorFlowEvent
	// collector reads: the trial's re-rooted copy of
	// source.fileSystemPath.path.
	EnvMetricsPath = "TUNE_METRICS_PATH"
	// EnvMetricsPort is the port a PrometheusMetric trial serves its
	// metrics on, on 127.0.0.1.
	EnvMetricsPort = "TUNE_METRICS_PORT"
)

// pollInterval is how often collectors look for new output.
const pollInterval = 500 * time.Millisecond

// Config is an experiment's collector: its metricsCollectorSpec, with
// Katib's defaults applied.
type Config struct {
	// Kind is collector.kind.
	Kind Kind
	// Path is source.fileSystemPath.path as the experiment names it: the
	// file a File trial writes, the directory a TensorFlowEvent trial
	// writes its event files under.
	Path string
	// Format is source.fileSystemPath.format: TEXT or JSON (File; the case
	// does not matter).
	Format string
	// Text parses the lines of a File collector's TEXT file; the trials'
	// collectors share it (a [metrics.TextParser] is safe for concurrent
	// use).
	Text *metrics.TextParser
	// Metrics are the names of the metrics of interest: the objective and
	// the additional metrics.
	Metrics []string
	// Port and URLPath are where a PrometheusMetric trial serves its
	// metrics (source.httpGet).
	Port    int
	URLPath string
	// FreePort gives each PrometheusMetric trial a free port instead of
	// Port, for trials that run in parallel and cannot share one.
	FreePort bool
	// PushAddress is where the Push collector's endpoint listens
	// ([push.Listen]'s addr).
	PushAddress string
	// InPod says the trials run in pods, where tune's collector runs
	// beside the trial's program ([PodCollector], [RunInPod]) and
	// forwards what it reads through the primary container's log: the
	// collectors ForTrial returns take what it forwards.
	InPod bool

	// asIs is set inside a pod ([RunInPod]): the path is the trial's own,
	// not re-rooted, and File lines go to Trial.line unparsed.
	asIs bool
}

// Trial is the trial a collector is built for.
type Trial struct {
	// Name is the trial's name, for messages and the Push endpoint.
	Name string
	// Dir is an existing directory of this machine the trial owns; the
	// trial's copies of the collector's file or directory live under it.
	Dir string
	// Emit is given each value read; Warn each problem, as a lowercase
	// message. They are called from the collector's goroutines and, for
	// Push, from the endpoint's.
	Emit func(metrics.Log)
	Warn func(string)

	// line, inside a pod, is given each line of a File collector's file.
	line func([]byte)
}

// Needs is what a trial needs from its collector, for the caller to add to
// its [trial.Spec].
type Needs struct {
	// Env holds environment variables (KEY=VALUE), as trial.Spec.Env.
	Env []string
	// Mounts make the trial's copy of the collector's directory appear at
	// the experiment's path, as trial.Spec.Mounts.
	Mounts []trial.Mount
	// Pod, with [Config].InPod, is the collector to run in the trial's
	// pod, as trial.Spec.Collector.
	Pod *trial.PodCollector
}

// Collectors builds the collectors of one experiment run's trials and owns
// what they share (the Push endpoint, started with the first Push trial).
// It is not safe for concurrent use.
type Collectors struct {
	cfg  Config
	push *push.Server
}

// New returns the Collectors of an experiment run whose collector is cfg.
func New(cfg Config) *Collectors {
	return &Collectors{cfg: cfg}
}

// ForTrial prepares trial t for the experiment's collector (it makes the
// directory of t's copy of the metrics file, registers t with the Push
// endpoint) and returns the collector with what t needs. The collector is
// nil when the trial's output is all there is to read ([Kind.ReadsOutput],
// or Custom). A mount whose target has been filled since the experiment was
// checked ([CheckMountTarget]) is left out, with a warning.
func (c *Collectors) ForTrial(t Trial) (metrics.Collector, Needs, error) {
	cfg := c.cfg
	if cfg.InPod {
		return c.forTrialInPod(t)
	}
	switch cfg.Kind {
	case File:
		parse, err := cfg.fileParser()
		if err != nil {
			return nil, Needs{}, err
		}
		p, err := c.trialPath(t)
		if err != nil {
			return nil, Needs{}, err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, Needs{}, fmt.Errorf("metrics file of trial %s: %w", t.Name, err)
		}
		needs := Needs{Env: []string{EnvMetricsPath + "=" + p}, Mounts: c.mount(t, filepath.Dir(p))}
		return &fileCollector{path: p, shown: cfg.Path, parse: parse, raw: t.line, emit: t.Emit, warn: t.Warn}, needs, nil
	case TensorFlowEvent:
		dir, err := c.trialPath(t)
		if err != nil {
			return nil, Needs{}, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, Needs{}, fmt.Errorf("event directory of trial %s: %w", t.Name, err)
		}
		needs := Needs{Env: []string{EnvMetricsPath + "=" + dir}, Mounts: c.mount(t, dir)}
		return &eventCollector{reader: tfevent.NewDirReader(dir, cfg.Metrics), shown: cfg.Path, emit: t.Emit, warn: t.Warn}, needs, nil
	case Push:
		if c.push == nil {
			srv, err := push.Listen(cfg.PushAddress, nil)
			if err != nil {
				return nil, Needs{}, fmt.Errorf("starting the Push collector's endpoint: %w", err)
			}
			c.push = srv
		}
		warn := func(msg string) { t.Warn("refused a metrics report: " + msg) }
		token, done := c.push.Register(t.Name, cfg.Metrics, t.Emit, warn)
		return pushCollector(done), Needs{Env: []string{push.EnvURL + "=" + c.push.URL(), push.EnvToken + "=" + token}}, nil
	case PrometheusMetric:
		port, err := c.metricsPort()
		if err != nil {
			return nil, Needs{}, err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d%s", port, cfg.URLPath)
		return &promCollector{url: url, names: cfg.Metrics, emit: t.Emit, warn: t.Warn}, Needs{Env: []string{EnvMetricsPort + "=" + strconv.Itoa(port)}}, nil
	}
	return nil, Needs{}, nil
}

// Close stops what the trials' collectors share. Call it once no trial
// runs.
func (c *Collectors) Close() error {
	if c.push == nil {
		return nil
	}
	err := c.push.Close()
	c.push = nil
	if err != nil {
		return fmt.Errorf("closing the Push collector's endpoint: %w", err)
	}
	return nil
}

// metricsPort returns the port a PrometheusMetric trial serves: cfg.Port,
// or a free one when trials run in parallel (TUNE_METRICS_PORT tells the
// trial which).
func (c *Collectors) metricsPort() (int, error) {
	if !c.cfg.FreePort {
		return c.cfg.Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for the trial's metrics endpoint: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, nil
}

// fileParser returns the parser of a File collector's lines: JSON or
// TEXT, as its format says.
func (cfg Config) fileParser() (func(line []byte, now time.Time) ([]metrics.Log, []string), error) {
	if !strings.EqualFold(cfg.Format, "JSON") {
		return cfg.Text.ParseLine, nil
	}
	jp, err := metrics.NewJSONParser(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	return func(line []byte, now time.Time) ([]metrics.Log, []string) {
		logs, invalid, err := jp.ParseLine(line, now)
		if err != nil {
			invalid = append(invalid, fmt.Sprintf("%.80q (%v)", line, err))
		}
		return logs, invalid
	}, nil
}

// trialPath returns where trial t's file or directory of a File or
// TensorFlowEvent collector is on this machine: the experiment's path
// inside a pod, else t's re-rooted copy ([reroot]).
func (c *Collectors) trialPath(t Trial) (string, error) {
	if c.cfg.asIs {
		return filepath.FromSlash(c.cfg.Path), nil
	}
	return reroot(t, c.cfg.Path)
}

// mount returns the mount that makes source, trial t's copy of the
// collector's directory, appear at [MountTarget], when the collector's path
// is absolute. A target filled since the experiment was checked gets no
// mount, with a warning.
func (c *Collectors) mount(t Trial, source string) []trial.Mount {
	if c.cfg.asIs {
		return nil
	}
	target, ok := MountTarget(c.cfg.Kind, c.cfg.Path)
	if !ok {
		return nil
	}
	if err := CheckMountTarget(filepath.FromSlash(target)); err != nil {
		t.Warn(fmt.Sprintf("%s is not made to appear inside the trial: %v", c.cfg.Path, err))
		return nil
	}
	return []trial.Mount{{Source: source, Target: target}}
}

// MountTarget returns the directory (slash-separated) at which each trial
// gets its own copy of a File collector's directory (the directory of p)
// or of a TensorFlowEvent collector's (p), when p, the collector's path, is
// absolute.
func MountTarget(kind Kind, p string) (string, bool) {
	if kind != File && kind != TensorFlowEvent {
		return "", false
	}
	if !path.IsAbs(p) {
		return "", false
	}
	if kind == File {
		return path.Dir(p), true
	}
	return path.Clean(p), true
}

// CheckMountTarget refuses a mount target that is an existing directory
// with entries: the trial's copy mounted there would hide them from the
// trial (its program, its data, its working directory when the target is
// that or an ancestor of it).
func CheckMountTarget(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return nil // missing (made inside the trial only) or not ours to judge
	}
	defer f.Close()
	names, err := f.Readdirnames(4)
	if len(names) == 0 || err != nil && !errors.Is(err, io.EOF) {
		return nil // empty, or not a directory (the mount then fails and says so)
	}
	shown := strings.Join(names[:min(len(names), 3)], ", ")
	if len(names) > 3 {
		shown += ", …"
	}
	return fmt.Errorf("the directory %s exists on this machine and is not empty (%s); each trial gets its own copy of it at that place, which would hide those files from the trial: write the metrics to $(%s) (tune sets it to the trial's copy), or use a path whose directory does not exist here, such as Katib's default /var/log/katib/metrics.log", dir, shown, EnvMetricsPath)
}

// reroot returns where trial t's copy of the collector path p lives: under
// the trial's directory, so that parallel trials do not share one file
// (/var/log/katib/metrics.log becomes
// $TUNE_TRIAL_DIR/var/log/katib/metrics.log; a relative path is relative
// to the trial's directory).
func reroot(t Trial, p string) (string, error) {
	if t.Dir == "" {
		return "", fmt.Errorf("trial %s has no directory to hold its metrics file %s", t.Name, p)
	}
	clean := path.Clean("/" + p) // no ".." can climb out of the trial's directory
	return filepath.Join(t.Dir, filepath.FromSlash(clean)), nil
}
