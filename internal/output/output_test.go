package output_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/internal/output"
)

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "json", "yaml"} {
		if f, err := output.ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	for _, s := range []string{"wide", "csv", "name", "jsonpath={.items[*].name}", "custom-columns=N:.name,L:metrics.loss"} {
		if f, err := output.ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	for s, want := range map[string]string{
		"jsonpath":               "needs a template",
		"jsonpath={.items[":      "jsonpath template",
		"custom-columns=":        "needs a spec",
		"custom-columns=NAME":    `"NAME" is not HEADER:FIELD`,
		"custom-columns=N:{.a[}": "column N",
		"csv=x":                  "takes no argument",
	} {
		if _, err := output.ParseFormat(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFormat(%q) error = %v, want it to say %q", s, err, want)
		}
	}
	_, err := output.ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), "table|wide|json|yaml|csv|name|jsonpath=TEMPLATE|custom-columns=SPEC") {
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

func TestJSONPathAndCustomColumns(t *testing.T) {
	type tr struct {
		Name    string             `json:"name"`
		Metrics map[string]float64 `json:"metrics"`
	}
	list := []tr{{"t-1", map[string]float64{"loss": 0.123456789}}, {"t-22", map[string]float64{}}}
	for format, want := range map[string]string{
		// A list is seen as kubectl's List: items.
		`jsonpath={.items[*].name}`:                                         "t-1 t-22",
		`jsonpath={range .items[*]}{.name}{"\t"}{.metrics.loss}{"\n"}{end}`: "t-1\t0.123456789\nt-22\t\n",
		`jsonpath={.kind}`:                                                  "List",
		// Full values, <none> where missing, columns aligned.
		"custom-columns=TRIAL:.name,LOSS:metrics.loss": "TRIAL   LOSS\nt-1     0.123456789\nt-22    <none>\n",
		"custom-columns=L:{.metrics.loss}":             "L\n0.123456789\n<none>\n",
	} {
		f, err := output.ParseFormat(format)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := output.Data(&b, f, list); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", format, diff)
		}
	}
	// One object: the template sees it as it is.
	var b bytes.Buffer
	if err := output.Data(&b, output.Format("jsonpath={.metrics.loss}"), list[0]); err != nil || b.String() != "0.123456789" {
		t.Errorf("jsonpath on one object = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := output.CustomColumnRows(&b, output.Format("custom-columns=N:.name"), list[1]); err != nil || b.String() != "t-22\n" {
		t.Errorf("CustomColumnRows = %q, %v", b.String(), err)
	}
	if err := output.Data(&b, output.CSV, list); err == nil {
		t.Error("Data(csv): no error")
	}
}

func TestNumberAndDuration(t *testing.T) {
	for x, want := range map[float64]string{0.123456789: "0.1235", 12345.678: "1.235e+04", 3: "3", -0.5: "-0.5", 1e-7: "1e-07", math.NaN(): "-", math.Inf(1): "inf"} {
		if got := output.Number(x); got != want {
			t.Errorf("Number(%v) = %q, want %q", x, got, want)
		}
	}
	for d, want := range map[time.Duration]string{1234567 * time.Microsecond: "1.23s", 12345 * time.Millisecond: "12.3s", 754600 * time.Millisecond: "12m35s"} {
		if got := output.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCSVAndNames(t *testing.T) {
	var b bytes.Buffer
	if err := output.WriteCSV(&b, []string{"name", "note"}, [][]string{{"t-1", "a,b \"c\""}, {"t-2", ""}}); err != nil {
		t.Fatal(err)
	}
	if want := "name,note\nt-1,\"a,b \"\"c\"\"\"\nt-2,\n"; b.String() != want {
		t.Errorf("csv = %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := output.WriteCSV(&b, nil, [][]string{{"x"}}); err != nil || b.String() != "x\n" {
		t.Errorf("csv without header = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := output.WriteNames(&b, []string{"a", "b"}); err != nil || b.String() != "a\nb\n" {
		t.Errorf("names = %q, %v", b.String(), err)
	}
}

func TestAlignedKeepsWidths(t *testing.T) {
	var b bytes.Buffer
	a := output.NewAligned(&b)
	if err := a.Write([]string{"TRIAL", "LOSS"}, [][]string{{"exp-1", "0.5"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Write(nil, [][]string{{"x", "1"}}); err != nil {
		t.Fatal(err)
	}
	want := "TRIAL   LOSS\nexp-1   0.5\nx       1\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("aligned (-want +got):\n%s", diff)
	}
	// It lays out as WriteTable does.
	var w bytes.Buffer
	output.WriteTable(&w, []string{"TRIAL", "LOSS"}, [][]string{{"exp-1", "0.5"}, {"x", "1"}})
	if w.String() != want {
		t.Errorf("WriteTable = %q, Aligned = %q", w.String(), want)
	}
}

func TestDataEscapesControlCharacters(t *testing.T) {
	v := map[string]string{"label": "a\x1b[2Jb c\u009bd\x7f"}
	for _, f := range []output.Format{output.JSON, output.YAML} {
		var b bytes.Buffer
		if err := output.Data(&b, f, v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if i := strings.IndexFunc(b.String(), func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f }); i >= 0 {
			t.Errorf("%s holds a raw control character: %q", f, b.String())
		}
		var back map[string]string
		if err := yaml.Unmarshal(b.Bytes(), &back); err != nil || back["label"] != v["label"] {
			t.Errorf("%s decodes to %q, %v; want %q", f, back["label"], err, v["label"])
		}
	}
}
