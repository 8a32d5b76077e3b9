package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/push"
	"github.com/tune-hpo/tune/metrics/tfevent"
	"github.com/tune-hpo/tune/trial"
)

// A collector reads one trial's metrics from where the experiment's
// metricsCollectorSpec says, other than the trial's output (the StdOut
// collector, which runTrial parses as it streams).
type collector interface {
	// collect passes each value it reads to emit and each problem (an
	// unreadable file, a value that is not a number) to warn, until ctx is
	// done; then it reads once more, so that what the trial wrote just
	// before it ended counts, and returns. It is called once, on a
	// goroutine of its own, while the trial's workload runs.
	collect(ctx context.Context, emit func(metrics.Log), warn func(string))
}

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

// collectPollInterval is how often file collectors look for new output.
const collectPollInterval = 500 * time.Millisecond

// hostCollectors are the collector kinds that read what a trial leaves on
// this machine (files, loopback endpoints), so they need an executor whose
// trials run here.
var hostCollectors = map[string]bool{"File": true, "TensorFlowEvent": true, "PrometheusMetric": true, "Push": true}

// checkCollector refuses a collector kind the runner cannot serve with
// executor ex, before anything is written.
func checkCollector(e *Experiment, ex trial.Executor) error {
	kind := e.CollectorKind()
	switch kind {
	case "", "StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Push":
	case "Custom":
		return fmt.Errorf("spec.metricsCollectorSpec.collector.kind Custom: a custom collector is a sidecar container that Katib injects into the trial's pod; tune has no sidecars, so it cannot run one: %w (use StdOut, File, TensorFlowEvent, PrometheusMetric or Push)", ErrUnsupported)
	default:
		return fmt.Errorf("spec.metricsCollectorSpec.collector.kind %q: %w yet (supported: StdOut, File, TensorFlowEvent, PrometheusMetric, Push)", kind, ErrUnsupported)
	}
	if _, onHost := ex.(trial.OnHost); hostCollectors[kind] && !onHost {
		return fmt.Errorf("spec.metricsCollectorSpec.collector.kind %s: %w by this executor: it reads what the trial leaves on the machine running tune, and these trials run elsewhere (use StdOut: the primary container's log is read)", kind, ErrUnsupported)
	}
	if target, ok := mountTarget(e); ok {
		if err := checkMountTarget(filepath.FromSlash(target)); err != nil {
			return fmt.Errorf("spec.metricsCollectorSpec.source.fileSystemPath.path %q: %w: %w", e.Spec.MetricsCollectorSpec.Source.FileSystemPath.Path, ErrUnsupported, err)
		}
	}
	return nil
}

// mountTarget returns the directory (slash-separated) at which each trial
// gets its own copy of the File collector's directory (or of the
// TensorFlowEvent collector's), when the collector's path is absolute.
func mountTarget(e *Experiment) (string, bool) {
	kind := e.CollectorKind()
	if kind != "File" && kind != "TensorFlowEvent" {
		return "", false
	}
	p := e.Spec.MetricsCollectorSpec.Source.FileSystemPath.Path
	if !path.IsAbs(p) {
		return "", false
	}
	if kind == "File" {
		return path.Dir(p), true
	}
	return path.Clean(p), true
}

// addMount makes source, the trial's copy of the collector's directory,
// appear at mountTarget inside the trial, when the collector's path is
// absolute. A target filled since the experiment was checked gets no
// mount, with a warning.
func (s *state) addMount(spec *trial.Spec, at *activeTrial, source string) {
	target, ok := mountTarget(s.exp)
	if !ok {
		return
	}
	if err := checkMountTarget(filepath.FromSlash(target)); err != nil {
		at.warn(fmt.Sprintf("trial %s: %s is not made to appear inside the trial: %v", spec.Name, s.exp.Spec.MetricsCollectorSpec.Source.FileSystemPath.Path, err))
		return
	}
	spec.Mounts = append(spec.Mounts, trial.Mount{Source: source, Target: target})
}

// checkMountTarget refuses a mount target that is an existing directory
// with entries: the trial's copy mounted there would hide them from the
// trial (its program, its data, its working directory when the target is
// that or an ancestor of it).
func checkMountTarget(dir string) error {
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

// parsesOutput reports whether the trial's output carries its metrics.
func (s *state) parsesOutput() bool {
	k := s.exp.CollectorKind()
	return k == "" || k == "StdOut"
}

// newCollector prepares spec for the experiment's collector (directories,
// environment, mounts) and returns the collector, or nil when the trial's
// output is all there is to read.
func (s *state) newCollector(spec *trial.Spec, at *activeTrial) (collector, error) {
	mc := s.exp.Spec.MetricsCollectorSpec
	switch s.exp.CollectorKind() {
	case "File":
		fs := mc.Source.FileSystemPath
		p, err := reroot(spec, fs.Path)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("metrics file of trial %s: %w", spec.Name, err)
		}
		spec.Env = append(spec.Env, EnvMetricsPath+"="+p)
		s.addMount(spec, at, filepath.Dir(p))
		parse := s.parser.ParseLine
		if strings.EqualFold(fs.Format, "JSON") {
			jp, err := metrics.NewJSONParser(s.exp.MetricNames())
			if err != nil {
				return nil, err
			}
			parse = func(line []byte, now time.Time) ([]metrics.Log, []string) {
				logs, invalid, err := jp.ParseLine(line, now)
				if err != nil {
					invalid = append(invalid, fmt.Sprintf("%.80q (%v)", line, err))
				}
				return logs, invalid
			}
		}
		return &fileCollector{path: p, shown: fs.Path, parse: parse}, nil
	case "TensorFlowEvent":
		fs := mc.Source.FileSystemPath
		dir, err := reroot(spec, fs.Path)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("event directory of trial %s: %w", spec.Name, err)
		}
		spec.Env = append(spec.Env, EnvMetricsPath+"="+dir)
		s.addMount(spec, at, dir)
		return &eventCollector{reader: tfevent.NewDirReader(dir, s.exp.MetricNames()), shown: fs.Path}, nil
	case "Push":
		if s.push == nil {
			srv, err := push.Listen(s.r.PushAddress, nil)
			if err != nil {
				return nil, fmt.Errorf("starting the Push collector's endpoint: %w", err)
			}
			s.push = srv
		}
		warn := func(msg string) { at.warn("trial " + spec.Name + ": refused a metrics report: " + msg) }
		token, done := s.push.Register(spec.Name, s.exp.MetricNames(), at.add, warn)
		spec.Env = append(spec.Env, push.EnvURL+"="+s.push.URL(), push.EnvToken+"="+token)
		return pushCollector(done), nil
	case "PrometheusMetric":
		port, urlPath, err := s.metricsEndpoint()
		if err != nil {
			return nil, err
		}
		spec.Env = append(spec.Env, EnvMetricsPort+"="+strconv.Itoa(port))
		return &promCollector{url: fmt.Sprintf("http://127.0.0.1:%d%s", port, urlPath), names: s.exp.MetricNames()}, nil
	}
	return nil, nil
}

// eventCollector follows the TensorFlow event files a trial writes under
// its directory, as Katib's TensorFlowEvent collector does.
type eventCollector struct {
	reader *tfevent.DirReader
	shown  string // the directory as the experiment names it
}

func (c *eventCollector) collect(ctx context.Context, emit func(metrics.Log), warn func(string)) {
	poll := func() {
		logs, warnings := c.reader.Poll()
		for _, l := range logs {
			emit(l)
		}
		for _, w := range warnings {
			warn(w.Error())
		}
	}
	t := time.NewTicker(collectPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			poll()
			if c.reader.Files() == 0 {
				warn(fmt.Sprintf("the trial wrote no TensorFlow event file under %s (%s)", c.shown, EnvMetricsPath))
			}
			return
		case <-t.C:
			poll()
		}
	}
}

// closeCollectors stops what the collectors share once no trial runs.
func (s *state) closeCollectors() {
	if s.push != nil {
		_ = s.push.Close() // bounded; the trials have ended
		s.push = nil
	}
}

// pushCollector is a trial's registration with the Push endpoint: the trial
// sends its reports there while it runs, and its token stops working when
// it ends (the call unregisters it).
type pushCollector func()

func (done pushCollector) collect(ctx context.Context, _ func(metrics.Log), _ func(string)) {
	<-ctx.Done()
	done()
}

// metricsEndpoint returns the port and path a PrometheusMetric trial
// serves: source.httpGet's, else Katib's defaults 8080 and /metrics. When
// trials run in parallel they cannot share one port, so each gets a free
// one (TUNE_METRICS_PORT tells it which).
func (s *state) metricsEndpoint() (port int, urlPath string, err error) {
	port, urlPath = DefaultPrometheusPort, DefaultPrometheusPath
	if mc := s.exp.Spec.MetricsCollectorSpec; mc != nil && mc.Source != nil && mc.Source.HTTPGet != nil {
		hg := mc.Source.HTTPGet
		if hg.Port.IntValue() > 0 {
			port = hg.Port.IntValue()
		}
		if hg.Path != "" {
			urlPath = "/" + strings.TrimPrefix(hg.Path, "/")
		}
	}
	if p := s.exp.Spec.ParallelTrialCount; p == nil || *p <= 1 {
		return port, urlPath, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, "", fmt.Errorf("finding a free port for the trial's metrics endpoint: %w", err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, urlPath, nil
}

// promCollector scrapes the trial's Prometheus endpoint while it runs and
// records a value each time it changes (a gauge read twice unchanged is one
// observation).
type promCollector struct {
	url   string
	names []string
}

func (c *promCollector) collect(ctx context.Context, emit func(metrics.Log), warn func(string)) {
	client := &http.Client{Timeout: 5 * time.Second}
	last := map[string]float64{} // the value last recorded, by metric
	scraped, warned := false, false
	scrape := func(final bool) {
		logs, invalid, err := metrics.ScrapePrometheus(context.WithoutCancel(ctx), client, c.url, c.names, time.Now())
		if err != nil {
			// Refused before the trial listens and after it exits: normal.
			if !final && !warned && !errors.Is(err, syscall.ECONNREFUSED) {
				warn(fmt.Sprintf("metrics endpoint %s: %v", c.url, err))
				warned = true
			}
			return
		}
		scraped = true
		for _, l := range logs {
			if prev, ok := last[l.Metric]; ok && prev == l.Value {
				continue
			}
			last[l.Metric] = l.Value
			emit(l)
		}
		for _, bad := range invalid {
			warn(fmt.Sprintf("metrics endpoint %s: %s; ignored", c.url, bad))
		}
	}
	t := time.NewTicker(collectPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			scrape(true)
			if !scraped {
				warn(fmt.Sprintf("the trial's metrics endpoint %s never answered (%s is the port it must listen on)", c.url, EnvMetricsPort))
			}
			return
		case <-t.C:
			scrape(false)
		}
	}
}

// reroot returns where trial spec's copy of the collector path p lives:
// under the trial's directory, so that parallel trials do not share one
// file (/var/log/katib/metrics.log becomes
// $TUNE_TRIAL_DIR/var/log/katib/metrics.log; a relative path is relative
// to the trial's directory).
func reroot(spec *trial.Spec, p string) (string, error) {
	if spec.Dir == "" {
		return "", fmt.Errorf("trial %s has no directory to hold its metrics file %s", spec.Name, p)
	}
	clean := path.Clean("/" + p) // no ".." can climb out of the trial's directory
	return filepath.Join(spec.Dir, filepath.FromSlash(clean)), nil
}

// fileCollector follows a metrics file the trial writes, as Katib's File
// collector does, parsing each complete line.
type fileCollector struct {
	path  string // on this machine
	shown string // as the experiment names it
	parse func(line []byte, now time.Time) ([]metrics.Log, []string)
}

func (c *fileCollector) collect(ctx context.Context, emit func(metrics.Log), warn func(string)) {
	var offset int64
	seen := false
	lines := metrics.NewLineWriter(0, func(line []byte) {
		logs, invalid := c.parse(line, time.Now())
		for _, l := range logs {
			emit(l)
		}
		for _, bad := range invalid {
			warn(fmt.Sprintf("metrics file %s: %s is not a finite metric value; ignored", c.shown, bad))
		}
	})
	read := func() {
		f, err := os.Open(c.path)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			warn(fmt.Sprintf("metrics file %s: %v", c.shown, err))
			return
		}
		defer f.Close()
		seen = true
		if fi, err := f.Stat(); err == nil && fi.Size() < offset {
			warn(fmt.Sprintf("metrics file %s was truncated; reading it again from the start", c.shown))
			offset = 0
		}
		n, err := io.Copy(lines, io.NewSectionReader(f, offset, 1<<62))
		offset += n
		if err != nil {
			warn(fmt.Sprintf("metrics file %s: %v", c.shown, err))
		}
	}
	t := time.NewTicker(collectPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			read()
			lines.Close()
			if !seen {
				warn(fmt.Sprintf("the trial never wrote its metrics file %s (%s=%s)", c.shown, EnvMetricsPath, c.path))
			}
			return
		case <-t.C:
			read()
		}
	}
}
