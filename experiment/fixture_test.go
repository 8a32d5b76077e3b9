package experiment_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"text/template"

	"github.com/tune-hpo/tune/experiment"
)

// fixtureYAML returns testdata/templates/name, a text/template of an
// experiment file, executed with data (a missing key is an error).
func fixtureYAML(t testing.TB, name string, data map[string]any) []byte {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "templates", name))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Option("missingkey=error").Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// parseFixture parses the experiment fixtureYAML returns, as the file name.
func parseFixture(t testing.TB, name string, data map[string]any) *experiment.Experiment {
	t.Helper()
	exp, err := experiment.Parse(fixtureYAML(t, name, data), name)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}
