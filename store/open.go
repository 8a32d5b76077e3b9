package store

import (
	"fmt"
	"os"
)

// openRegular opens a regular file as os.OpenFile does and refuses anything
// else. The open does not block (openNonblock).
func openRegular(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag|openNonblock, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w (%s); a store is a file tune creates", errNotRegular, fileKind(fi.Mode()))
	}
	return f, nil
}
