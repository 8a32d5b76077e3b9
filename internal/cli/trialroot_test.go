package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTrialRoot: one store file reached by a symlink, through "dir/../"
// or by a relative path has one trial root, next to the real file; a file
// that does not exist yet gets its absolute path's.
func TestTrialRoot(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real.db")
	if err := os.WriteFile(real, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "sub", "link.db")
	if err := os.Symlink("../real.db", link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "sub"))
	want := real + ".trials"
	for _, p := range []string{real, link, filepath.Join(dir, "sub", "..", "real.db"), "../real.db", "link.db"} {
		if got := trialRoot(p); got != want {
			t.Errorf("trialRoot(%q) = %q, want %q", p, got, want)
		}
	}
	if got, want := trialRoot("new.db"), filepath.Join(dir, "sub", "new.db.trials"); got != want {
		t.Errorf("trialRoot(new.db) = %q, want %q", got, want)
	}
}
