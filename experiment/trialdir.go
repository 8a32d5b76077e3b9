package experiment

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// emptyDir makes dir an empty directory, creating its parents as needed. A
// dir that exists and is not an empty directory is first renamed to
// dir.stale-<now in UTC> (with a counter where that name is taken), whose
// path it returns; "" when nothing was there.
func emptyDir(dir string, now time.Time) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	err := os.Mkdir(dir, 0o755)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if f, err := os.Open(dir); err == nil {
		_, rerr := f.Readdirnames(1)
		f.Close()
		if errors.Is(rerr, io.EOF) {
			return "", nil // an empty directory
		}
	}
	base := dir + ".stale-" + now.UTC().Format("20060102T150405Z")
	stale := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(stale); errors.Is(err, fs.ErrNotExist) {
			break
		}
		stale = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(dir, stale); err != nil {
		return "", fmt.Errorf("move aside what is in the trial directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	return stale, nil
}
