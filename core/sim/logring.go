package sim

// The kernel log is a ring buffer of log_buf_len bytes, as printk's is:
// when a record does not fit, the oldest go. A record takes its text plus
// the 8-byte id of printk_ringbuffer's data block, rounded up to 8 bytes,
// and the descriptor ring holds log_buf_len/32 records (PRB_AVGBITS), so
// many short lines run out of descriptors first. The event history is
// kept the same way, by count. Seq numbers keep counting, so a reader that
// fell behind (Ready, the bridge) can tell how many it missed; the console
// of a real box then prints "** N printk messages dropped **".

// DefaultLogBufLen is log_buf_len when the configuration gives none:
// 1 MiB, a common log_buf_len= boot setting (x86_64 defconfig builds
// 256 KiB).
const DefaultLogBufLen = 1 << 20

// DefaultMaxEvents is how many events are kept when the configuration
// gives no number.
const DefaultMaxEvents = 1 << 17

// logRing is the state of both rings.
type logRing struct {
	bufLen    int // log_buf_len in bytes, a power of two
	maxEvents int
	logBase   int // Seq of s.log[0]
	logBytes  int // data ring bytes in use
	evBase    int // Seq of s.events[0]
	wrapped   bool
	warnings  int // WARN_ON_ONCE hits, counted here since events may go
}

func newLogRing(bufLen, maxEvents int) logRing {
	if bufLen <= 0 {
		bufLen = DefaultLogBufLen
	}
	// log_buf_len_update rounds up to a power of two; at least 4 KiB.
	n := 4096
	for n < bufLen {
		n <<= 1
	}
	if maxEvents <= 0 {
		maxEvents = DefaultMaxEvents
	}
	return logRing{bufLen: n, maxEvents: maxEvents}
}

func recordSize(text string) int { return 8 + (len(text)+7)&^7 }

// appendLog stores a record, dropping the oldest that no longer fit.
func (s *Sim) appendLog(l LogLine) {
	r := &s.ring
	if s.quiet {
		r.logBase++ // dropped, but Seq numbers go on counting
		return
	}
	l.Seq = r.logBase + len(s.log)
	s.log = append(s.log, l)
	r.logBytes += recordSize(l.Text)
	drop := 0
	for r.logBytes > r.bufLen || len(s.log)-drop > r.bufLen>>5 {
		r.logBytes -= recordSize(s.log[drop].Text)
		drop++
	}
	if drop > 0 {
		s.noteWrap()
		s.log = s.log[drop:]
		r.logBase += drop
	}
}

// appendEvent stores an event, dropping the oldest beyond maxEvents.
// keptQuiet: the events a quiet machine still records.
func keptQuiet(k EventKind) bool { return k == EvAlarm || k == EvWarning || k == EvHazard }

// drops reports whether the machine drops an event of kind k.
func (s *Sim) drops(k EventKind) bool { return s.quiet && !keptQuiet(k) }

func (s *Sim) appendEvent(e Event) {
	r := &s.ring
	if s.drops(e.Kind) {
		r.evBase++
		return
	}
	e.Seq = r.evBase + len(s.events)
	s.events = append(s.events, e)
	if len(s.events) > r.maxEvents {
		drop := len(s.events) - r.maxEvents
		s.events = s.events[drop:]
		r.evBase += drop
	}
}

// noteWrap records, once, that the log started losing its oldest records.
func (s *Sim) noteWrap() {
	if s.ring.wrapped {
		return
	}
	s.ring.wrapped = true
	s.appendEvent(Event{Kind: EvLog, Time: s.Now(), Text: "the kernel log is full (log_buf_len=" + itoa(s.ring.bufLen) +
		"): from now on each new record overwrites the oldest, and readers that fell behind see messages dropped"})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// LogBase is the Seq of the oldest record still in the log (Log()[0]);
// earlier ones were overwritten.
func (s *Sim) LogBase() int { return s.ring.logBase }

// EventBase is the Seq of the oldest event still kept (Events()[0]).
func (s *Sim) EventBase() int { return s.ring.evBase }

// LogBufLen is log_buf_len in bytes.
func (s *Sim) LogBufLen() int { return s.ring.bufLen }
