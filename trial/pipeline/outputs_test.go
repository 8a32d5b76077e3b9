package pipeline

import (
	"strings"
	"testing"
)

func TestWriteParameter(t *testing.T) {
	tests := map[string]struct{ name, value, want string }{
		"number":                      {"loss", "0.5", "loss=0.5\n"},
		"exponent":                    {"lr", "1e-3", "lr=1e-3\n"},
		"padded":                      {"n", " 7\n", "n=7\n"},
		"text":                        {"model", "resnet", ""},
		"nan":                         {"x", "NaN", ""},
		"bad name":                    {"a b", "1", ""},
		"kfp":                         {MetricsParameter, `{"metrics":[{"name":"acc","numberValue":0.9},{"name":"s","stringValue":"x"}]}`, "acc=0.9\n"},
		"kfp v2 flat":                 {MetricsParameter, `{"loss": 0.1, "accuracy": 0.9, "name": "x", "f1": "0.5", "bad": NaN}`, ""},
		"kfp v2 flat valid":           {MetricsParameter, `{"loss": 0.1, "accuracy": 0.9, "name": "x", "f1": "0.5", "inf": "Inf"}`, "accuracy=0.9\nf1=0.5\nloss=0.1\n"},
		"kfp v2 metrics number":       {MetricsParameter, `{"metrics": 3}`, "metrics=3\n"},
		"kfp malformed":               {MetricsParameter, `{"metrics":`, ""},
		"kfp strings and bad entries": {MetricsParameter, `{"metrics":[{"name":"acc","numberValue":"0.9"},{"name":"f1","numberValue":"NaN"},{"name":"x y","numberValue":1},{"name":"loss","numberValue":0.2}]}`, "acc=0.9\nloss=0.2\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			writeParameter(&b, tc.name, tc.value)
			if got := b.String(); got != tc.want {
				t.Errorf("writeParameter(%q, %q) wrote %q, want %q", tc.name, tc.value, got, tc.want)
			}
		})
	}
}
