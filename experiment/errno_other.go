//go:build !unix

package experiment

import "syscall"

// infrastructureErrnos are the errors of exhausted resources that make a
// trial's failure tune's environment's fault (see infrastructureFault).
var infrastructureErrnos = []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN, syscall.ENOSPC}
