//go:build linux

package store

import (
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockHolders returns the ids of the processes holding a flock on the file at
// path, as /proc/locks lists them, or nil when that cannot be told. It is
// best effort: the holder may have let go by the time it is read.
func lockHolders(path string) []int {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil
	}
	// Dev is uint32 on some platforms (mips), hence the conversions.
	major, minor := unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
	var pids []int
	for line := range strings.Lines(string(data)) {
		// "1: FLOCK  ADVISORY  WRITE 3431 fd:01:1234567 0 EOF"; waiters
		// have "->" after the id and are skipped.
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" {
			continue
		}
		id := strings.Split(f[5], ":")
		if len(id) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(id[0], 16, 32)
		mnr, err2 := strconv.ParseUint(id[1], 16, 32)
		ino, err3 := strconv.ParseUint(id[2], 10, 64)
		pid, err4 := strconv.Atoi(f[4])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || pid <= 0 {
			continue
		}
		if uint32(maj) == major && uint32(mnr) == minor && ino == st.Ino && !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
