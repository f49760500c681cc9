package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// cpuSample is the CPU time used so far by this process (the client and the
// server under test) and by the machine's PostgreSQL processes, all of them
// and those serving the load's own database. Dividing a phase's difference
// by its requests gives the CPU each request costs on either side, which the
// ratio of req/s alone does not show. The machine-wide figure includes the
// WAL writer and autovacuum, but also other databases' work; the own one
// counts only the backends connected to the load's database (the pools'
// connections, which live through a phase), so other work on a shared
// PostgreSQL server does not show in it.
type cpuSample struct {
	self, postgres, ownDB time.Duration
	postgresOK            bool
}

// loadDatabase is the name of the load's temporary database, whose backends
// are counted apart ("" until it is made).
var loadDatabase string

func sampleCPU() cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.postgres, s.ownDB, s.postgresOK = postgresCPU(loadDatabase)
	return s
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// postgresCPU sums user and system time of every process named postgres
// (the backends, the WAL writer, autovacuum...), and apart those of the
// backends connected to database db (PostgreSQL titles a backend "postgres:
// cluster: user database client state"). It reports false where /proc
// cannot be read (not Linux, or another user's processes hidden).
func postgresCPU(db string) (all, own time.Duration, ok bool) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks, ownTicks int64
	found := false
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold
		// spaces, so fields are counted after its closing parenthesis.
		open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || close < open || string(b[open+1:close]) != "postgres" {
			continue
		}
		f := bytes.Fields(b[close+1:])
		if len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
		s, err2 := strconv.ParseInt(string(f[12]), 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ticks += u + s
		found = true
		if db != "" {
			title, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
			if bytes.Contains(title, []byte(" "+db+" ")) {
				ownTicks += u + s
			}
		}
	}
	return time.Duration(ticks) * clockTick, time.Duration(ownTicks) * clockTick, found
}
