//go:build !unix

package store

import "os"

// tryLock is a no-op where flock(2) is not available: experiments are not
// protected against two concurrent runs there.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
