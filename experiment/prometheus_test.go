package experiment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
)

// TestPrometheusMetricAccepted: the PrometheusMetric collector, which
// Katib's API declares and its default install refuses (no collector
// image is configured for it), is accepted as tune's addition, with
// Katib's defaults and Katib's checks of port and path.
func TestPrometheusMetricAccepted(t *testing.T) {
	const objective = "    type: minimize\n    objectiveMetricName: loss"
	e := parseFixture(t, "unit.yaml", map[string]any{"Objective": objective,
		"Extra": "  metricsCollectorSpec:\n    collector: {kind: PrometheusMetric}\n"})
	hg := e.Spec.MetricsCollectorSpec.Source.HTTPGet
	if hg.Port.String() != "8080" || hg.Path != "/metrics" {
		t.Errorf("defaults: port %s, path %q; want Katib's 8080 and /metrics", hg.Port.String(), hg.Path)
	}
	for _, tc := range []struct{ source, want string }{
		{"{httpGet: {port: -1, path: /metrics}}", "spec.metricsCollectorSpec.source.httpGet.port: \"-1\" must be a port number"},
		{"{httpGet: {port: 9090, path: metrics}}", "spec.metricsCollectorSpec.source.httpGet.path: \"metrics\" must start with /"},
	} {
		_, err := experiment.Parse(fixtureYAML(t, "unit.yaml", map[string]any{"Objective": objective,
			"Extra": "  metricsCollectorSpec:\n    collector: {kind: PrometheusMetric}\n    source: " + tc.source + "\n"}), "p.yaml")
		if !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("source %s: %v; want %q", tc.source, err, tc.want)
		}
	}
}
