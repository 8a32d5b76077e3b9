package output_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/internal/output"
)

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "json", "yaml"} {
		if f, err := output.ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	_, err := output.ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), "table|json|yaml") {
		t.Errorf("ParseFormat(xml) error = %v, want the allowed formats", err)
	}
}

func TestData(t *testing.T) {
	v := []map[string]any{{"name": "t-1", "metrics": map[string]float64{"loss": 0.5, "acc": 0.9}}}
	for format, want := range map[output.Format]string{
		output.JSON: "[\n  {\n    \"metrics\": {\n      \"acc\": 0.9,\n      \"loss\": 0.5\n    },\n    \"name\": \"t-1\"\n  }\n]\n",
		output.YAML: "- metrics:\n    acc: 0.9\n    loss: 0.5\n  name: t-1\n",
	} {
		var b bytes.Buffer
		if err := output.Data(&b, format, v); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", format, diff)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	err := output.WriteTable(&b, []string{"TRIAL", "loss"}, [][]string{{"exp-0001", "0.5"}, {"exp-0002", "-"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "TRIAL      loss\nexp-0001   0.5\nexp-0002   -\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
