//go:build unix

package store

import "syscall"

// openNonblock makes openRegular's open return at once: a FIFO's open
// would wait for a writer.
const openNonblock = syscall.O_NONBLOCK
