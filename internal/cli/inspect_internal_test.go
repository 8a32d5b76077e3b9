package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/trial"
)

func TestLineEscaper(t *testing.T) {
	var b bytes.Buffer
	l := &lineEscaper{w: &b}
	// A line split across writes, a UTF-8 rune split across writes, a
	// terminal escape, a tab and a partial last line.
	for _, p := range []string{"epo", "ch 1\tok\n\x1b]0;pwn", "ed\x07\nsmall ", "\xc3", "\xa9\nno newline"} {
		if n, err := l.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	want := "epoch 1\tok\n\\x1b]0;pwned\\x07\nsmall é\n"
	if b.String() != want {
		t.Errorf("before flush: %q, want %q", b.String(), want)
	}
	if err := l.flush(); err != nil || b.String() != want+"no newline\n" {
		t.Errorf("after flush: %q (%v)", b.String(), err)
	}
}

func TestShellQuote(t *testing.T) {
	got := shellQuote([]string{"/bin/train", "--lr=0.01", "--name", "it's here", "", "$(HOME)", "a;b"})
	want := `/bin/train --lr=0.01 --name 'it'\''s here' '' '$(HOME)' 'a;b'`
	if got != want {
		t.Errorf("shellQuote = %s, want %s", got, want)
	}
}

func TestTailLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	var b strings.Builder
	for i := range 30000 { // line i has i mod 7 x: about 120 KiB, more than the 64 KiB read
		b.WriteString(strings.Repeat("x", i%7) + "\n")
	}
	b.WriteString("last")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, omitted, err := tailLines(path, 3)
	if err != nil || !omitted || !slices.Equal(lines, []string{"xxx", "xxxx", "last"}) {
		t.Errorf("tailLines = %q, %v, %v", lines, omitted, err)
	}
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if lines, omitted, _ := tailLines(path, 20); omitted || !slices.Equal(lines, []string{"a", "b"}) {
		t.Errorf("short file: %q, omitted %v", lines, omitted)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if lines, omitted, err := tailLines(path, 20); omitted || len(lines) != 0 || lines == nil || err != nil {
		t.Errorf("empty file: %q, %v, %v", lines, omitted, err)
	}
}

func TestMissingLogError(t *testing.T) {
	missing := &os.PathError{Op: "open", Path: "p", Err: os.ErrNotExist}
	now := time.Now()
	for _, c := range []struct {
		t    trial.Trial
		err  error
		want string
	}{
		{trial.Trial{Name: "a-0001", State: trial.Pending}, missing, "has not started yet"},
		{trial.Trial{Name: "a-0001", State: trial.Failed, Reason: "RenderError"}, missing, "never started (status Failed, reason RenderError)"},
		{trial.Trial{Name: "a-0001", State: trial.Succeeded, Started: now}, missing, "was deleted"},
		{trial.Trial{Name: "a-0001", State: trial.Running, Started: now}, errors.New("permission denied"), "read log: permission denied"},
	} {
		if got := missingLogError(&c.t, "p", c.err).Error(); !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.t, got, c.want)
		}
	}
}

func TestLastLinesOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	long := strings.Repeat("y", 100<<10) // a line longer than one read
	for _, c := range []struct {
		content string
		n       int
		want    string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"a\nb\nc\n", 9, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"\n\n", 1, "\n"},
		{"", 3, ""},
		{"x\n" + long + "\nz\n", 2, long + "\nz\n"},
		{"x\n" + long + "\nz\n", 3, "x\n" + long + "\nz\n"},
	} {
		if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		off, err := lastLinesOffset(path, c.n)
		if err != nil || c.content[off:] != c.want {
			t.Errorf("last %d lines of %.20q start at %d (%v): %.20q, want %.20q", c.n, c.content, off, err, c.content[off:], c.want)
		}
	}
}
