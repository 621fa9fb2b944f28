// Package proc reads a process tree's CPU time and peak resident memory from
// /proc, the gateway-side figures of a load run. Linux only; it imports only
// the standard library.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrFormat is returned for /proc text that does not parse.
var ErrFormat = errors.New("proc: unexpected format")

// ClockTick is USER_HZ, the unit of utime and stime: 100 on every Linux ABI
// Go supports (sysconf would need cgo).
const ClockTick = 10 * time.Millisecond

// ParseStat returns utime+stime from the text of /proc/PID/stat. The command
// name may hold spaces and parentheses, so fields count from the last ')'.
func ParseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, ErrFormat
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, ErrFormat
	}
	// Ticks fit in 40 bits for 300 years of CPU; more would overflow Duration.
	u, err1 := strconv.ParseUint(f[11], 10, 40)
	s, err2 := strconv.ParseUint(f[12], 10, 40)
	if err1 != nil || err2 != nil {
		return 0, ErrFormat
	}
	return time.Duration(u+s) * ClockTick, nil
}

// ParseStatusKB returns the value in kB of key ("VmHWM", "VmRSS") from the
// text of /proc/PID/status.
func ParseStatusKB(b []byte, key string) (int64, error) {
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, ErrFormat
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("%w: no %s", ErrFormat, key)
}

// Tree is pid and its descendants now (nginx's master and worker; a Go
// gateway alone).
func Tree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out) && i < 64; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", out[i], out[i]))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// Sample is a process tree's counters at one instant.
type Sample struct {
	CPU    time.Duration // utime+stime summed over the tree
	PeakKB int64         // VmHWM summed over the tree
}

// Read samples the tree rooted at pid.
func Read(pid int) (Sample, error) {
	var s Sample
	for _, p := range Tree(pid) {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return s, err
		}
		cpu, err := ParseStat(st)
		if err != nil {
			return s, err
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			return s, err
		}
		kb, err := ParseStatusKB(status, "VmHWM")
		if err != nil {
			return s, err
		}
		s.CPU += cpu
		s.PeakKB += kb
	}
	return s, nil
}

// ResetPeak resets VmHWM to the current RSS for the tree (clear_refs 5,
// Linux 4.0+), so each run reports its own peak. It needs to own the
// processes or be root; on failure the peak is since start.
func ResetPeak(pid int) error {
	var errs []error
	for _, p := range Tree(pid) {
		errs = append(errs, os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p), []byte("5"), 0))
	}
	return errors.Join(errs...)
}
