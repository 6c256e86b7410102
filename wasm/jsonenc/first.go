package jsonenc

import (
	"github.com/klp-playground/klp/core/scenario"
	"github.com/klp-playground/klp/core/sim"
)

// FirstPaint appends what a page needs to draw a scenario's starting
// state before the WebAssembly arrives, as the bridge would return it:
// {"View": viewPacked, "Log": log, "Events": events, "Goals": goals,
// "Start": startOutput, "Source": source, "Panels": panels, "Ls": {dir:
// [{name, dir}]}} with
// ls of every livepatch's sysfs directory. cmd/build writes it into the
// page; web/lib/firstpaint.js serves it to the panels.
func FirstPaint(dst []byte, s *scenario.Session, start []scenario.Out) []byte {
	m := s.Sim()
	v := m.View()
	e := enc(dst)
	e.raw(`{"View":`)
	*e = ViewPacked(*e, &v)
	e.raw(`,"Log":`)
	*e = LogLines(*e, FromLog(m.Log()))
	e.raw(`,"Events":`)
	*e = Events(*e, m.Events())
	g := s.Goals()
	if g == nil {
		g = []scenario.GoalResult{}
	}
	e.raw(`,"Goals":`)
	*e = Goals(*e, g, s.Failures())
	e.raw(`,"Start":`)
	*e = Output(*e, start)
	e.raw(`,"Source":`)
	e.str(s.Source())
	e.raw(`,"Panels":`)
	e.strs(scenario.Panels())
	e.raw(`,"Ls":{`)
	for i, p := range v.Patches {
		dir := "/sys/kernel/livepatch/" + p.Name
		if i > 0 {
			e.raw(",")
		}
		e.str(dir)
		e.raw(":")
		ents, _ := m.ReadDir(dir)
		list(e, ents, func(d *sim.DirEntry) {
			e.raw(`{"dir":`)
			e.bool(d.Dir)
			e.raw(`,"name":`)
			e.str(d.Name)
			e.raw("}")
		})
	}
	e.raw("}}")
	return []byte(*e)
}

// FromLog is the log as the bridge sends it.
func FromLog(l []sim.LogLine) []LogLine {
	out := make([]LogLine, len(l))
	for i, x := range l {
		out[i] = LogLine{Seq: x.Seq, Time: x.Time, Level: x.Level.String(), Text: x.Text, Dmesg: x.Dmesg()}
	}
	return out
}
