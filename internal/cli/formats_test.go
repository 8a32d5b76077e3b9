package cli_test

import (
	"runtime"
	"strings"
	"testing"
)

// TestDocumentFormats checks that the commands printing one document take
// the data formats (jsonpath included) and refuse the list formats with a
// usage error naming what they take.
func TestDocumentFormats(t *testing.T) {
	dir := t.TempDir()
	if r := tune(t, dir, "version", "-o", "jsonpath={.goVersion}"); r.code != 0 || r.stdout != runtime.Version() {
		t.Errorf("version -o jsonpath: exit %d, stdout %q, want %q", r.code, r.stdout, runtime.Version())
	}
	for _, args := range [][]string{
		{"version", "-o", "csv"},
		{"describe", "x", "1", "-o", "wide"},
		{"compare", "x", "1", "2", "-o", "name"},
		{"importance", "x", "-o", "csv"},
	} {
		r := tune(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "prints one document, not a list (allowed: table|json|yaml|jsonpath=TEMPLATE|custom-columns=SPEC)") {
			t.Errorf("tune %q: exit %d, stderr %q; want 2 naming the formats it takes", args, r.code, r.stderr)
		}
	}
}
