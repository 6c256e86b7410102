package sim

import (
	"strconv"
	"strings"
)

// The kernel log as a file: /dev/kmsg takes lines from user space (with
// an optional "<N>" level prefix), and dmesg -C / -c clear what dmesg
// shows from then on (the records stay in the ring buffer for /dev/kmsg
// readers, as in the kernel, where clear_seq only moves).

type kmsgState struct {
	clearSeq int // the first record dmesg shows (syslog's clear_seq)
}

// defaultMessageLoglevel is CONFIG_MESSAGE_LOGLEVEL_DEFAULT: the level of
// a /dev/kmsg line without a prefix.
const defaultMessageLoglevel = LevelWarn

// kmsgWrite is devkmsg_write: "<N>" sets the level (N & 7; the facility
// bits do not show in dmesg); one write is one record, without its
// trailing newline.
func (s *Sim) kmsgWrite(data string) error {
	line := strings.TrimSuffix(data, "\n")
	level := defaultMessageLoglevel
	if strings.HasPrefix(line, "<") {
		if end := strings.IndexByte(line, '>'); end > 1 {
			if u, err := strconv.ParseUint(line[1:end], 10, 32); err == nil {
				level = Level(u & 7)
				line = line[end+1:]
			}
		}
	}
	s.printText(level, line)
	return nil
}

// DmesgClear is dmesg -C (syslog SYSLOG_ACTION_CLEAR): dmesg shows only
// what is logged from now on.
func (s *Sim) DmesgClear() {
	s.kmsg.clearSeq = len(s.log)
	if n := len(s.log); n > 0 {
		s.kmsg.clearSeq = s.log[n-1].Seq + 1
	}
}

// Dmesg returns the records dmesg shows: those logged since the last
// DmesgClear.
func (s *Sim) Dmesg() []LogLine {
	log := s.Log()
	for i, l := range log {
		if l.Seq >= s.kmsg.clearSeq {
			return log[i:]
		}
	}
	return nil
}

// ifaceFile serves the files of the kernel interfaces outside livepatch's
// sysfs: /dev/kmsg, the dynamic debug control file and the function
// tracer's files. nil if p is none of them.
func (s *Sim) ifaceFile(p string) *node {
	switch p {
	case "/dev/kmsg":
		return &node{mode: "crw-r--r--", read: func() string { return s.kmsgRead() }, write: s.kmsgWrite}
	case "/proc/dynamic_debug/control", "/sys/kernel/debug/dynamic_debug/control":
		return s.ddNode()
	}
	if n := s.kprobeFile(p); n != nil {
		return n
	}
	if n := s.pidCountFile(p); n != nil {
		return n
	}
	if n, ok := s.producedNode(p); ok {
		return n
	}
	return s.tracerFile(p)
}

// kmsgRead is what a reader of /dev/kmsg gets: every record, from the
// oldest, as "level,seq,usec,-;text".
func (s *Sim) kmsgRead() string {
	var b strings.Builder
	for _, l := range s.Log() {
		b.WriteString(strconv.Itoa(int(l.Level)) + "," + strconv.Itoa(l.Seq) + "," + strconv.FormatInt(l.Time/1e3, 10) + ",-;" + l.Text + "\n")
	}
	return b.String()
}
