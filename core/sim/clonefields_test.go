package sim

import (
	"reflect"
	"testing"
)

// How Clone and Fingerprint treat each field of Sim. Clone: "value" (a
// plain value, copied by c := *s), "copy" (a slice or map copied),
// "cow" (shared until either side changes it), "shared" (immutable or
// only appended to with the capacity cut), "records" (the log and
// events: shared, capacity cut), "scratch" (per-call buffers, dropped).
// Hash: true when Fingerprint covers it, else why not.
var simFields = map[string]struct {
	clone string
	hash  string // "" when hashed
}{
	"prof":        {"value", "fixed for a machine's life"},
	"hz":          {"value", "fixed for a machine's life"},
	"reliable":    {"value", "fixed for a machine's life"},
	"seed":        {"value", "fixed; rng is its position"},
	"rng":         {"value", ""},
	"jiffies":     {"value", ""},
	"bootJif":     {"value", "fixed at boot"},
	"lat":         {"value", "ns into the jiffy: only timestamps read it, no decision"},
	"cpus":        {"copy", ""},
	"tasks":       {"copy", ""},
	"tidx":        {"cow", "derived from tasks"},
	"gp":          {"copy", ""},
	"noGPWait":    {"value", ""},
	"idle":        {"copy", ""},
	"nextPID":     {"value", ""},
	"forking":     {"copy", ""},
	"inHandler":   {"copy", ""},
	"code":        {"shared", "only its length: entries are fixed once added but the dead flag, which follows the modules' states"},
	"syms":        {"cow", "derived from code"},
	"nextBase":    {"value", "follows the code table's length"},
	"mods":        {"copy", ""},
	"patches":     {"copy", ""},
	"list":        {"copy", ""},
	"ops":         {"copy", "(the func_stacks shared: replaced whole on change)"},
	"opsByCode":   {"cow", "derived from ops"},
	"opsShared":   {"value", "how opsByCode is shared, not state"},
	"transition":  {"value", ""},
	"target":      {"value", ""},
	"signalsCnt":  {"value", ""},
	"workDue":     {"value", ""},
	"schedHook":   {"value", ""},
	"forcedEver":  {"value", ""},
	"tainted":     {"value", ""},
	"taint":       {"value", ""},
	"ftraceOff":   {"value", ""},
	"warned":      {"shared", ""},
	"usedForce":   {"value", ""},
	"tickWork":    {"value", ""},
	"alarms":      {"value", "only whether any: a count records the past"},
	"hazards":     {"value", "only whether any"},
	"syncs":       {"value", "a count of the past (klp_synchronize_transition calls)"},
	"nohzTouched": {"value", "a count of the past"},
	"writer":      {"value", ""},
	"worker":      {"value", ""},
	"shellWait":   {"value", "its Cmd is an immutable Input value"},
	"cur":         {"value", "set only while a syscall runs (asSyscall), 0 between steps"},
	"dd":          {"value", "dynamic debug flags: what is printed, not what runs"},
	"kmsg":        {"value", "where dmesg starts: the log, not the machine"},
	"tracer":      {"copy", "the function tracer: what is traced, not what runs (its buffer shared, capacity cut)"},
	"kp":          {"copy", "kprobes come and go with modules, which are hashed"},
	"pidcnt":      {"shared", "modfiles' pid counts: copied on change"},
	"shadow":      {"shared", "shadow variables: copied on every change"},
	"log":         {"records", "records the past"},
	"events":      {"records", "records the past"},
	"ring":        {"value", "records the past (but the WARNING count, as whether any)"},
	"readyLog":    {"value", "records the past"},
	"readyEv":     {"value", "records the past"},
	"quiet":       {"value", "what is recorded, not what runs"},
	"scratch":     {"scratch", "not state"},
	"slowIdx":     {"scratch", "not state"},
	"fastIdx":     {"scratch", "not state"},
	"bufs":        {"scratch", "not state: the memory CloneInto reuses"},
}

// TestSimFieldsClassified fails when a field is added to Sim without
// saying here how Clone copies it and whether Fingerprint covers it (and
// then Clone and Fingerprint must do what the table says): the explore
// mode merges states by fingerprint and branches by Clone, so a field
// that is neither cloned nor hashed nor deliberately left out silently
// makes it wrong.
func TestSimFieldsClassified(t *testing.T) {
	ty := reflect.TypeOf(Sim{})
	have := map[string]bool{}
	for i := 0; i < ty.NumField(); i++ {
		f := ty.Field(i)
		have[f.Name] = true
		c, ok := simFields[f.Name]
		if !ok {
			t.Errorf("Sim.%s (%s) is new: say in simFields how Sim.Clone copies it and whether Sim.Fingerprint covers it (and make them do so)", f.Name, f.Type)
			continue
		}
		k := f.Type.Kind()
		reference := k == reflect.Slice || k == reflect.Map || k == reflect.Pointer
		if c.clone == "value" && reference {
			t.Errorf("Sim.%s is a %s, which c := *s shares: Clone must copy it (say copy, cow or shared)", f.Name, k)
		}
	}
	for name := range simFields {
		if !have[name] {
			t.Errorf("simFields lists %s, which Sim no longer has", name)
		}
	}
}

// TestCloneIndependent: changing a clone (a fork, a module unload) leaves
// the machine it came from as it was, although they share the code table,
// the symbols and the task index until one of them changes.
func TestCloneIndependent(t *testing.T) {
	s := newSim(t, "6.16")
	if _, err := s.Spawn(TaskSpec{PID: 100, Comm: "cat", Kind: UserTask, State: Runnable}); err != nil {
		t.Fatal(err)
	}
	before := s.Fingerprint()
	c := s.Clone()
	if c.Fingerprint() != before {
		t.Fatal("a clone's fingerprint differs from its source's")
	}
	if _, err := c.Fork(100, 4242, "cat", false); err != nil {
		t.Fatal(err)
	}
	c.Advance(1)
	if s.Fingerprint() != before {
		t.Error("a fork in the clone changed the source")
	}
	if _, ok := s.tidx.ordOf[4242]; ok || s.task(4242) != nil {
		t.Error("the source's task index has the clone's child")
	}
	if c.task(4242) == nil {
		t.Error("the clone lost its child")
	}
}
