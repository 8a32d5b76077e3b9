package experiment

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/trial"
)

// checkCollector refuses a collector kind the runner cannot serve with
// executor ex, before anything is written.
func checkCollector(e *Experiment, ex trial.Executor) error {
	kind := e.CollectorKind()
	switch {
	case kind == "" || kind.Supported():
	case kind == collect.Custom:
		return fmt.Errorf("spec.metricsCollectorSpec.collector.kind Custom: a custom collector is a sidecar container that Katib injects into the trial's pod; tune has no sidecars, so it cannot run one: %w (use %s)", ErrUnsupported, joinKinds(supportedKinds(), " or "))
	default:
		return fmt.Errorf("spec.metricsCollectorSpec.collector.kind %q: %w yet (supported: %s)", kind, ErrUnsupported, joinKinds(supportedKinds(), ", "))
	}
	if kind.OnHost() && collectorInPod(ex) {
		if _, err := e.PodCollector(); err != nil {
			return fmt.Errorf("spec.metricsCollectorSpec: %w: %w", ErrUnsupported, err)
		}
	} else if _, onHost := ex.(trial.OnHost); kind.OnHost() && !onHost {
		return fmt.Errorf("spec.metricsCollectorSpec.collector.kind %s: %w by this executor: it reads what the trial leaves on the machine running tune, and these trials run elsewhere (use StdOut: the primary container's log is read)", kind, ErrUnsupported)
	}
	if mc := e.Spec.MetricsCollectorSpec; mc != nil && mc.Source != nil && mc.Source.FileSystemPath != nil {
		if target, ok := collect.MountTarget(kind, mc.Source.FileSystemPath.Path); ok {
			if err := collect.CheckMountTarget(filepath.FromSlash(target)); err != nil {
				return fmt.Errorf("spec.metricsCollectorSpec.source.fileSystemPath.path %q: %w: %w", mc.Source.FileSystemPath.Path, ErrUnsupported, err)
			}
		}
	}
	return nil
}

// collectorInPod reports whether ex runs tune's collector in its trials'
// pods: it can ([trial.PodCollectors]) and its trials do not run on this
// machine.
func collectorInPod(ex trial.Executor) bool {
	_, onHost := ex.(trial.OnHost)
	_, inPod := ex.(trial.PodCollectors)
	return inPod && !onHost
}

// PodCollector returns the experiment's collector as it runs inside a
// trial's pod ([collect.PodCollector]); nil when the trial's output is
// all it reads.
func (e *Experiment) PodCollector() (*trial.PodCollector, error) {
	return collect.PodCollector(e.collectConfig(nil, ""))
}

// supportedKinds returns the collector kinds tune can run, in Katib's
// order.
func supportedKinds() []collect.Kind {
	var kinds []collect.Kind
	for _, k := range collect.Kinds() {
		if k.Supported() {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// joinKinds lists kinds separated by commas, the last two by last
// (", " or " or ").
func joinKinds(kinds []collect.Kind, last string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + last + names[len(names)-1]
}

// collectConfig returns the experiment's collector as package collect
// builds it: its metricsCollectorSpec with Katib's defaults for what the
// experiment leaves out (the PrometheusMetric port and path), text lines
// parsed with text, the Push endpoint listening on pushAddress.
func (e *Experiment) collectConfig(text *metrics.TextParser, pushAddress string) collect.Config {
	cfg := collect.Config{
		Kind:        e.CollectorKind(),
		Text:        text,
		Metrics:     e.MetricNames(),
		Port:        DefaultPrometheusPort,
		URLPath:     DefaultPrometheusPath,
		PushAddress: pushAddress,
	}
	if p := e.Spec.ParallelTrialCount; p != nil && *p > 1 {
		cfg.FreePort = true
	}
	mc := e.Spec.MetricsCollectorSpec
	if mc == nil || mc.Source == nil {
		return cfg
	}
	if fs := mc.Source.FileSystemPath; fs != nil {
		cfg.Path, cfg.Format = fs.Path, fs.Format
	}
	if hg := mc.Source.HTTPGet; hg != nil {
		if hg.Port.IntValue() > 0 {
			cfg.Port = hg.Port.IntValue()
		}
		if hg.Path != "" {
			cfg.URLPath = "/" + strings.TrimPrefix(hg.Path, "/")
		}
	}
	return cfg
}

// collectConfig returns the collector of the run's trials.
func (s *state) collectConfig() collect.Config {
	cfg := s.exp.collectConfig(s.parser, s.r.PushAddress)
	cfg.InPod = collectorInPod(s.r.Executor)
	return cfg
}
