package cli

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/suggest/algorithms"
)

// readmeSection returns the part of the README under the heading, up to
// the next heading of the same level.
func readmeSection(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	s := readme[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestReadmeTables: every command of the CLI is in the README's command
// table, every algorithm tune runs in its algorithm table, and every
// package of the module in its layout table, so no table falls behind the
// code unnoticed.
func TestReadmeTables(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)

	commands := readmeSection(t, readme, "## The command line")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			if sub.HasAvailableSubCommands() {
				walk(sub)
				continue
			}
			if !strings.Contains(commands, "| `"+sub.CommandPath()) {
				t.Errorf("README.md, The command line: no row for %q", sub.CommandPath())
			}
		}
	}
	walk(newRootCommand(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, commandHooks{}))

	algs := readmeSection(t, readme, "## Search algorithms")
	for _, name := range algorithms.Implemented() {
		if !regexp.MustCompile("(?m)^\\| [^|]*`" + regexp.QuoteMeta(name) + "`").MatchString(algs) {
			t.Errorf("README.md, Search algorithms: no row for %q", name)
		}
	}

	layout := readmeSection(t, readme, "## Layout")
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z0-9/]+)`").FindAllStringSubmatch(layout, -1) {
		named[m[1]] = true
	}
	for _, m := range regexp.MustCompile("`([a-z0-9/]+)/\\{([a-z0-9,]+)\\}`").FindAllStringSubmatch(layout, -1) {
		for _, leaf := range strings.Split(m[2], ",") {
			named[m[1]+"/"+leaf] = true
		}
	}
	root := filepath.Join("..", "..")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && rel != "." {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		switch {
		case named[pkg]:
		case strings.HasSuffix(pkg, "test") && named[filepath.ToSlash(filepath.Dir(pkg))]:
			// a test helper package beside the package it serves
		case named["examples"] && strings.HasPrefix(pkg, "examples/"),
			named["test/k8s"] && strings.HasPrefix(pkg, "test/k8s/"):
		default:
			t.Errorf("README.md, Layout: package %s (%s) is not named", pkg, rel)
			named[pkg] = true // once per package
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
