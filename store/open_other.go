//go:build !unix

package store

// openNonblock is 0 where opens of special files do not block.
const openNonblock = 0
