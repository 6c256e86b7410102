package sim

import (
	"fmt"
	"testing"
)

// The log keeps the newest records that fit in log_buf_len, counts on in
// Seq, tells a reader how many it missed, and says once that it wrapped.
func TestLogRing(t *testing.T) {
	s, err := New(Config{Vmlinux: testVmlinux, LogBufLen: 5000}) // rounded up to 8192
	if err != nil {
		t.Fatal(err)
	}
	if s.LogBufLen() != 8192 {
		t.Fatalf("log_buf_len = %d, want 8192", s.LogBufLen())
	}
	text := fmt.Sprintf("%0100d", 0) // 100 bytes: 8 + 104 per record
	for i := 0; i < 200; i++ {
		s.printText(LevelInfo, text)
	}
	// 8192/112 = 73 records fit; the descriptors (8192/32 = 256) do not bind.
	log := s.Log()
	if len(log) != 73 || s.LogBase() != 127 || log[0].Seq != 127 || log[72].Seq != 199 {
		t.Fatalf("kept %d records from Seq %d (base %d), want 73 from 127", len(log), log[0].Seq, s.LogBase())
	}
	r := s.Ready()
	if r.LogDropped != 127 || len(r.Log) != 73 {
		t.Fatalf("Ready: %d dropped, %d lines; want 127 and 73", r.LogDropped, len(r.Log))
	}
	n := 0
	for _, e := range r.Events {
		if e.Kind == EvLog {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d log-wrapped events, want exactly 1", n)
	}
	s.printText(LevelInfo, "x")
	if r := s.Ready(); r.LogDropped != 0 || len(r.Log) != 1 || r.Log[0].Text != "x" {
		t.Fatalf("after one more line: %+v", r)
	}
	// Short records run out of descriptors first: 256 of them.
	for i := 0; i < 1000; i++ {
		s.printText(LevelInfo, "")
	}
	if len(s.Log()) != 256 {
		t.Fatalf("kept %d empty records, want 256 descriptors' worth", len(s.Log()))
	}
}

// Events are kept by count; RunUntil still finds an event when the ring
// moves while it waits.
func TestEventRing(t *testing.T) {
	s, err := New(Config{Vmlinux: testVmlinux, MaxEvents: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 25; i++ {
		s.step("step %d", i)
	}
	ev := s.Events()
	if len(ev) != 10 || s.EventBase() != 15 || ev[0].Text != "step 15" {
		t.Fatalf("kept %d events from %d (%q)", len(ev), s.EventBase(), ev[0].Text)
	}
	if r := s.Ready(); r.EventsDropped != 15 || len(r.Events) != 10 {
		t.Fatalf("Ready: %d dropped, %d events", r.EventsDropped, len(r.Events))
	}
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	sleeper(t, s, 900, "blocker", UserTask, Uninterruptible, "cmdline_proc_show")
	must(t, s.Insmod("lp")) // each retry makes more events than the ring holds
	e, ok := s.RunUntil(uint64(30*s.HZ()), func(e Event) bool { return e.Kind == EvSignal })
	if !ok || e.Seq < s.EventBase() {
		t.Fatalf("RunUntil across a moving ring: %v %+v (base %d)", ok, e, s.EventBase())
	}
}
