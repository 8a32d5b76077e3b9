package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/metrics"
)

func TestScrapePrometheus(t *testing.T) {
	body := `# HELP accuracy Validation accuracy.
# TYPE accuracy gauge
accuracy 0.91
# TYPE loss gauge
loss{split="train"} 0.3
loss 0.25 1638455270000
# TYPE steps_total counter
steps_total 1200
# TYPE f1 gauge
f1{split="train"} 0.5
f1{split="val"} 0.4
# TYPE latency summary
latency{quantile="0.5"} 3
latency_sum 10
latency_count 2
lr NaN
other 7
val_acc{run="a"} 0.77
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	names := []string{"accuracy", "loss", "steps_total", "f1", "latency", "lr", "absent", "val_acc"}
	logs, invalid, err := metrics.ScrapePrometheus(t.Context(), srv.Client(), srv.URL+"/metrics", names, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Log{
		{Metric: "accuracy", Value: 0.91, Step: -1, Time: now},
		{Metric: "loss", Value: 0.25, Step: -1, Time: time.Date(2021, 12, 2, 14, 27, 50, 0, time.UTC)},
		{Metric: "steps_total", Value: 1200, Step: -1, Time: now},
		{Metric: "val_acc", Value: 0.77, Step: -1, Time: now}, // untyped, its only series
	}
	if diff := cmp.Diff(want, logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	wantInvalid := []string{"f1: 2 labelled series and none without labels", "latency: a summary, not a gauge, counter or untyped metric", "lr=NaN"}
	if diff := cmp.Diff(wantInvalid, invalid); diff != "" {
		t.Errorf("invalid (-want +got):\n%s", diff)
	}

	for name, url := range map[string]string{"404": srv.URL + "/nope", "refused": "http://127.0.0.1:1/metrics"} {
		if _, _, err := metrics.ScrapePrometheus(t.Context(), srv.Client(), url, names, now); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestScrapePrometheusBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"garbage":  "accuracy 0.9 0.8 0.7 extra\n{{{\n",
		"too long": "# " + strings.Repeat("x", 17<<20) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
			defer srv.Close()
			if logs, _, err := metrics.ScrapePrometheus(t.Context(), srv.Client(), srv.URL, []string{"accuracy"}, now); err == nil {
				t.Errorf("no error, logs %v", logs)
			}
		})
	}
}
