package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// newRecord describes the process group led by pid, which has just been
// started and not yet reaped.
func newRecord(pid int) (*processRecord, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return nil, err
	}
	return &processRecord{PGID: pid, StartTime: st.startTime, Session: st.session, BootID: bootID()}, nil
}

// liveMembers counts the live processes (zombies excluded) of the process
// group rec describes. A process group id is not reused while any member of
// the group lives, so the group is rec's as long as it has members, unless
// its leader's id was reused: a live process with that id but another start
// time means that rec's group, leader and all, is gone. Members are also
// checked against the leader's session, which they all share, and start
// time, which none precedes.
func liveMembers(rec *processRecord) (int, error) {
	if rec.BootID != "" {
		if b := bootID(); b != "" && b != rec.BootID {
			return 0, nil // the machine has restarted since
		}
	}
	if st, err := readProcStat(rec.PGID); err == nil && st.live() && rec.StartTime != 0 && st.startTime != rec.StartTime {
		return 0, nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	n := 0
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid <= 0 {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil {
			continue // it has just exited
		}
		switch {
		case st.pgrp != rec.PGID, !st.live():
		case rec.Session != 0 && st.session != rec.Session:
		case st.startTime < rec.StartTime:
		default:
			n++
		}
	}
	return n, nil
}

// procStat holds the fields of /proc/PID/stat that tune uses.
type procStat struct {
	state     byte
	pgrp      int
	session   int
	startTime uint64 // clock ticks after boot
}

// live reports whether the process runs: it is neither a zombie nor dead.
func (s procStat) live() bool { return s.state != 'Z' && s.state != 'X' && s.state != 'x' }

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, fmt.Errorf("read process %d status: %w", pid, err)
	}
	st, err := parseProcStat(data)
	if err != nil {
		return procStat{}, fmt.Errorf("read process %d status: %w", pid, err)
	}
	return st, nil
}

// parseProcStat parses the content of /proc/PID/stat (proc_pid_stat(5)).
// The command name, field 2, is in parentheses and may itself contain
// spaces and parentheses, so the fields are counted from the last ')'.
func parseProcStat(data []byte) (procStat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat: no command name")
	}
	// Fields 3 (state) onwards.
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed stat: too few fields")
	}
	pgrp, err1 := strconv.Atoi(f[2])
	session, err2 := strconv.Atoi(f[3])
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, fmt.Errorf("malformed stat: %w", err)
	}
	return procStat{state: f[0][0], pgrp: pgrp, session: session, startTime: start}, nil
}

// bootID identifies the current boot; "" when unknown. It is read once
// per process: a boot outlives every process in it.
var bootID = sync.OnceValue(func() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
})
