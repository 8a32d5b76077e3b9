package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tune-hpo/tune/store"
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
	st, err := store.Open(real, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
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
		if got := openedTrialRoot(t, p); got != want {
			t.Errorf("trialRoot(%q) = %q, want %q", p, got, want)
		}
	}
	if got, want := openedTrialRoot(t, "new.db"), filepath.Join(dir, "sub", "new.db.trials"); got != want {
		t.Errorf("trialRoot(new.db) = %q, want %q", got, want)
	}
}

// openedTrialRoot opens the store at path read-write and returns its trial
// root.
func openedTrialRoot(t *testing.T, path string) string {
	t.Helper()
	st, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return trialRoot(st)
}
