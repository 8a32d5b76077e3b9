package experiment_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
)

// measure runs fn and returns how long it took and how many bytes it
// allocated.
func measure(fn func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc
}

// billionLaughs returns a YAML alias bomb as mapping entries indented by
// indent spaces: levels anchors, each a list of ten aliases of the one
// before, so that the last one expands to 10^levels strings.
func billionLaughs(levels, indent int) string {
	var b strings.Builder
	pad := strings.Repeat(" ", indent)
	fmt.Fprintf(&b, "%sl0: &l0 lol\n", pad)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "%sl%d: &l%d [", pad, i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestParseAliasBomb(t *testing.T) {
	valid := readValid(t)
	tests := map[string]string{
		// status and the trial spec are free-form, so the decoder expands
		// whatever they hold.
		"in status":     valid + "status:\n" + billionLaughs(9, 2),
		"in trial spec": strings.Replace(valid, "      kind: Job\n", "      kind: Job\n"+billionLaughs(9, 6), 1),
		"merge keys": "status:\n  a0: &a0 {k: v}\n" + func() string {
			var b strings.Builder
			for i := 1; i <= 12; i++ {
				fmt.Fprintf(&b, "  a%d: &a%d {<<: [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]}\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
			}
			return b.String()
		}(),
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			var err error
			d, alloc := measure(func() { _, err = experiment.Parse([]byte(src), "bomb.yaml") })
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !errors.Is(err, experiment.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			if !strings.Contains(err.Error(), "document contains excessive aliasing") {
				t.Errorf("error %q does not mention excessive aliasing", err)
			}
			if alloc > 64<<20 {
				t.Errorf("Parse allocated %d MiB (in %v)", alloc>>20, d)
			}
			t.Logf("%v, %d KiB allocated: %.200s", d, alloc>>10, err)
		})
	}
}

func TestParseDeepNesting(t *testing.T) {
	const depth = 10_000
	tests := map[string]string{
		"flow lists": "status: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n",
		"flow maps":  "status: " + strings.Repeat("{a: ", depth) + "1" + strings.Repeat("}", depth) + "\n",
		// Block nesting needs depth²/2 bytes of indentation: 2,500 levels
		// fit in MaxFileSize.
		"block maps":   blockNesting(2_500),
		"just below":   "status: " + strings.Repeat("[", 9_990) + strings.Repeat("]", 9_990) + "\n",
		"via aliases":  aliasNesting(),
		"unclosed":     "status: " + strings.Repeat("[", 100_000) + "\n",
		"deep in spec": "spec: " + strings.Repeat("{trialTemplate: ", 5_000) + "1" + strings.Repeat("}", 5_000) + "\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			var err error
			d, alloc := measure(func() { _, err = experiment.Parse([]byte(src), "deep.yaml") })
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !errors.Is(err, experiment.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			if alloc > 64<<20 {
				t.Errorf("Parse allocated %d MiB (in %v)", alloc>>20, d)
			}
			t.Logf("%v, %d KiB allocated: %.200s", d, alloc>>10, err)
		})
	}
}

// blockNesting returns depth nested block mappings.
func blockNesting(depth int) string {
	var b strings.Builder
	b.WriteString("status:\n")
	for i := 1; i <= depth; i++ {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("a:\n")
	}
	return b.String()
}

// aliasNesting returns a document that is shallow as text but, through
// aliases, nests 20 mappings of 900 levels one inside the other.
func aliasNesting() string {
	var b strings.Builder
	b.WriteString("status:\n  x0: &x0 1\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  x%d: &x%d %s*x%d%s\n", i, i, strings.Repeat("{a: ", 900), i-1, strings.Repeat("}", 900))
	}
	return b.String()
}

func TestParseDeepNestingMessage(t *testing.T) {
	// yaml.v3 gives no line for this error.
	_, err := experiment.Parse([]byte("status: "+strings.Repeat("[", 20_000)+strings.Repeat("]", 20_000)+"\n"), "deep.yaml")
	if err == nil || err.Error() != "deep.yaml: invalid YAML: exceeded max depth of 10000" {
		t.Errorf("err = %v, want yaml.v3's depth limit with the file name", err)
	}
	_, err = experiment.Parse([]byte(aliasNesting()), "deep.yaml")
	if err == nil || !strings.Contains(err.Error(), "nests more than 1000 levels deep") {
		t.Errorf("err = %v, want the decoder's depth limit", err)
	}
}

func TestParseModestAliasesStillWork(t *testing.T) {
	// Anchors and merge keys used as people use them stay accepted.
	src := strings.Replace(readValid(t), "    trialSpec:\n", "    trialSpec: &spec\n", 1) +
		"status:\n  copies: [*spec, *spec, *spec, *spec, *spec, *spec, *spec, *spec]\n"
	if _, err := experiment.Parse([]byte(src), "x.yaml"); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

func TestLoadRefusesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 100 MB file: nothing is written to disk.
	const size = 100 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var (
		e    *experiment.Experiment
		data []byte
	)
	d, alloc := measure(func() { e, data, err = experiment.Load(path) })
	if err == nil || e != nil || data != nil {
		t.Fatalf("Load = %v, %d bytes, %v; want an error and nothing else", e, len(data), err)
	}
	if !errors.Is(err, experiment.ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
	}
	for _, want := range []string{path, "104857600 bytes", "4194304 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if alloc > 1<<20 {
		t.Errorf("Load allocated %d bytes (in %v): it read the file", alloc, d)
	}
}

func TestLoadSizeLimitBoundary(t *testing.T) {
	dir := t.TempDir()
	valid := readValid(t)
	// Exactly MaxFileSize bytes: a valid experiment padded with a comment.
	at := filepath.Join(dir, "at.yaml")
	pad := experiment.MaxFileSize - len(valid) - len("#\n")
	if err := os.WriteFile(at, []byte(valid+"#"+strings.Repeat("x", pad)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := experiment.Load(at); err != nil {
		t.Errorf("Load of a %d-byte file: %v", experiment.MaxFileSize, err)
	}
	over := filepath.Join(dir, "over.yaml")
	if err := os.WriteFile(over, []byte(valid+"#"+strings.Repeat("x", pad+1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := experiment.Load(over); !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Load of a %d-byte file: %v, want too large", experiment.MaxFileSize+1, err)
	}
}

func TestLoadUnsizedFile(t *testing.T) {
	// A device reports no size; Load reads no more than the limit.
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, data, err := experiment.Load("/dev/zero")
	if !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), "more than 4194304 bytes") {
		t.Errorf("Load(/dev/zero) = %v, want too large", err)
	}
	if data != nil {
		t.Errorf("Load returned %d bytes", len(data))
	}
}

func TestHostileNames(t *testing.T) {
	valid := readValid(t)
	names := map[string]string{
		"slash":         `a/b`,
		"dot dot":       `..`,
		"parent":        `../../etc`,
		"absolute":      `/etc`,
		"backslash":     `a\\b`,
		"nul":           `a\0b`,
		"dot":           `.`,
		"dotted":        `a..b`,
		"too long":      strings.Repeat("a", experiment.MaxNameLength+1),
		"very long":     strings.Repeat("a", 1<<16),
		"upper":         `Quad`,
		"newline":       `a\nb`,
		"unicode slash": `a∕b`,
		"empty":         ``,
	}
	for name, n := range names {
		t.Run("metadata.name "+name, func(t *testing.T) {
			src := strings.Replace(valid, "  name: quad\n", fmt.Sprintf("  name: \"%s\"\n", n), 1)
			_, err := experiment.Parse([]byte(src), "x.yaml")
			if !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), "x.yaml:4:3: metadata.name: ") {
				t.Errorf("Parse = %v, want an error at metadata.name", err)
			}
		})
	}
	params := map[string]string{
		"nul":     `l\0r`,
		"newline": `l\nr`,
		"escape":  `l\e[2Jr`,
		"long":    strings.Repeat("p", experiment.MaxParameterNameLength+1),
	}
	for name, n := range params {
		t.Run("parameter "+name, func(t *testing.T) {
			src := strings.Replace(valid, "    - name: lr\n", fmt.Sprintf("    - name: \"%s\"\n", n), 1)
			src = strings.Replace(src, "reference: lr\n", fmt.Sprintf("reference: \"%s\"\n", n), 1)
			_, err := experiment.Parse([]byte(src), "x.yaml")
			if !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), "x.yaml:13:7: spec.parameters[0].name: ") {
				t.Errorf("Parse = %.300v, want an error at spec.parameters[0].name", err)
			}
		})
	}
	// Path separators and dots in parameter names are harmless: trial
	// directories are named after metadata.name and a number only.
	src := strings.Replace(valid, "    - name: lr\n", "    - name: ../../x/y\n", 1)
	src = strings.Replace(src, "reference: lr\n", "reference: ../../x/y\n", 1)
	e, err := experiment.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatalf("Parse with parameter ../../x/y: %v", err)
	}
	checkParsedName(t, e)
}

// checkParsedName asserts that a trial directory of e stays under its root.
func checkParsedName(t *testing.T, e *experiment.Experiment) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, e.Metadata.Name, e.Metadata.Name+"-0001")
	rel, err := filepath.Rel(root, dir)
	if err != nil || !filepath.IsLocal(rel) {
		t.Errorf("trial directory %q escapes %q", dir, root)
	}
}

// TestNULInListValueRejected: a NUL byte in a categorical or discrete value
// passed validate and then failed every trial that drew it with
// "fork/exec: invalid argument"; validate names the value instead.
func TestNULInListValueRejected(t *testing.T) {
	valid := readValid(t)
	for _, tc := range []struct{ typ, list string }{
		{"categorical", `["ok", "a\0b"]`},
		{"discrete", `["1", "2\0"]`},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			src := strings.Replace(valid, "      parameterType: int\n      feasibleSpace:\n        min: \"1\"\n        max: \"4\"\n",
				fmt.Sprintf("      parameterType: %s\n      feasibleSpace:\n        list: %s\n", tc.typ, tc.list), 1)
			if src == valid {
				t.Fatal("testdata/valid/quad.yaml changed: the layers parameter was not replaced")
			}
			_, err := experiment.Parse([]byte(src), "x.yaml")
			if !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), "spec.parameters[1].feasibleSpace.list[1]: ") || !strings.Contains(err.Error(), "NUL") {
				t.Errorf("Parse = %v, want an error at spec.parameters[1].feasibleSpace.list[1] naming the NUL byte", err)
			}
		})
	}
}
