package sim

import "slices"

// ViewTracker remembers the tasks a client was last sent, so that
// ViewDelta sends only what changed since. Its zero value is ready: the
// first delta is a full one. A client (one page session) keeps one per
// machine it shows.
type ViewTracker struct {
	sim    *Sim
	heads  []TaskView // without stacks
	stacks [][]Frame
	keys   []int
	opsSig string
}

// ViewDelta is a View whose Tasks hold only the tasks that changed since
// the tracker's last call, so that a view of 10,000 tasks in which a few
// moved costs a few tasks to build, encode and parse.
type ViewDelta struct {
	View
	// Changed gives, for each task in View.Tasks, its index in the whole
	// list (for_each_process_thread order, then idle tasks).
	Changed []int
	// Keys is the whole list's order when it changed (a fork or an exit):
	// each task's PID, an idle task's -1-CPU. Nil when it did not.
	Keys []int
	// Full: every task is in View.Tasks (the first call, another machine
	// after the timeline moved, or a func_stack changed, which can change
	// the role of any frame).
	Full bool
}

// TaskKey is the key ViewDelta.Keys uses for a task.
func TaskKey(t *TaskView) int {
	if t.Kind == IdleTask.String() {
		return -1 - t.CPU
	}
	return t.PID
}

// ViewDelta builds the changes since tr's last call and records them in tr.
func (s *Sim) ViewDelta(tr *ViewTracker) ViewDelta {
	s.compactTasks() // walks the tasks
	d := ViewDelta{View: s.viewBase()}
	sig := opsSignature(d.FuncStacks)
	n := len(s.tasks) + len(s.idle)
	d.Full = tr.sim != s || sig != tr.opsSig
	keys := make([]int, 0, n)
	heads := make([]TaskView, 0, n)
	stacks := make([][]Frame, 0, n)
	frames := make(map[Frame]FrameView)
	var byKey map[int]int // old index of each key, built when needed
	changed := func(i int, t *Task) {
		h := s.taskHead(t)
		heads = append(heads, h)
		keys = append(keys, TaskKey(&h))
		var old []Frame
		same := false
		if !d.Full {
			// a task keeps its index unless the list changed (a fork or an
			// exit); then it is found by its key
			j := i
			if j >= len(tr.keys) || tr.keys[j] != keys[i] {
				if byKey == nil {
					byKey = make(map[int]int, len(tr.keys))
					for k, key := range tr.keys {
						byKey[key] = k
					}
				}
				var ok bool
				if j, ok = byKey[keys[i]]; !ok {
					j = -1
				}
			}
			if j >= 0 {
				same = sameHead(&tr.heads[j], &h)
				old = tr.stacks[j]
			}
		}
		if same && slices.Equal(old, t.Stack) {
			stacks = append(stacks, old)
			return
		}
		stacks = append(stacks, slices.Clone(t.Stack))
		d.Changed = append(d.Changed, i)
		d.Tasks = append(d.Tasks, s.taskView(t, frames))
	}
	for i := range s.tasks {
		changed(len(heads), &s.tasks[i])
	}
	for i := range s.idle {
		changed(len(heads), &s.idle[i])
	}
	if d.Full || !slices.Equal(keys, tr.keys) {
		d.Keys = keys
	}
	*tr = ViewTracker{sim: s, heads: heads, stacks: stacks, keys: keys, opsSig: sig}
	return d
}

// opsSignature names every func_stack entry: frame roles depend on them.
func opsSignature(fs []FuncStackView) string {
	b := make([]byte, 0, 64*len(fs))
	for _, f := range fs {
		b = append(b, f.Func...)
		b = append(b, '@')
		b = append(b, f.Object...)
		for _, e := range f.Entries {
			b = append(b, ':')
			b = append(b, e.Patch...)
			b = append(b, '/')
			b = append(b, e.New...)
			if e.Nop {
				b = append(b, '!')
			}
		}
		b = append(b, ';')
	}
	return string(b)
}

// sameHead compares two tasks' pictures but for their stacks (TaskView
// holds a slice, so == cannot). TestSameHeadSeesEveryField keeps it
// complete when TaskView grows.
func sameHead(a, b *TaskView) bool {
	return a.PID == b.PID && a.TGID == b.TGID && a.Comm == b.Comm && a.Kind == b.Kind && a.State == b.State &&
		a.Letter == b.Letter && a.CPU == b.CPU && a.InKernel == b.InKernel && a.Freezable == b.Freezable &&
		a.PatchState == b.PatchState && a.Pending == b.Pending && a.Signal == b.Signal && a.Unreliable == b.Unreliable &&
		a.NoRCU == b.NoRCU && a.Blocked == b.Blocked && a.InHandler == b.InHandler && a.InHook == b.InHook && a.Forking == b.Forking && a.Waits == b.Waits
}
