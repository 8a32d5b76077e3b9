package cli

import "path/filepath"

// realStorePath returns the absolute path of the store file at path with
// every symlink resolved, or only made absolute where it cannot be
// resolved (the file does not exist). It has the meaning of
// (*store.Store).RealPath, which can replace it.
func realStorePath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// trialRoot returns the directory under which the store at path keeps its
// trials' directories: its real path with ".trials" appended, so that each
// store file has its own.
func trialRoot(path string) string { return realStorePath(path) + ".trials" }
