package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookPath(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{"bin/train", 0o755},
		{"bin/data.txt", 0o644},
		{"work/run.sh", 0o755},
		{"rel/prog", 0o755},
	} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(root, "bin")
	tests := map[string]struct {
		name, path, dir string
		want, wantErr   string
	}{
		"in PATH":                     {name: "train", path: "/nonexistent:" + bin, want: filepath.Join(bin, "train")},
		"not executable":              {name: "data.txt", path: bin, wantErr: `executable "data.txt" not found in $PATH`},
		"relative PATH entry ignored": {name: "prog", path: "rel", dir: root, wantErr: `executable "prog" not found`},
		"slash is relative to dir":    {name: "./run.sh", dir: filepath.Join(root, "work"), want: filepath.Join(root, "work", "run.sh")},
		"absolute":                    {name: filepath.Join(bin, "train"), dir: "/elsewhere", want: filepath.Join(bin, "train")},
		"directory":                   {name: bin, wantErr: "is a directory"},
		"no permission":               {name: filepath.Join(bin, "data.txt"), wantErr: "permission denied"},
		"empty":                       {name: "", wantErr: "empty command"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := lookPath(tc.name, tc.path, tc.dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("lookPath = %q, %v, want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("lookPath = %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}
