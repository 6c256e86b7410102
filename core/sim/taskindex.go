package sim

import (
	"slices"
	"sort"
)

// taskIndex finds a task by pid in s.tasks, which stays in
// for_each_process_thread order (a thread goes after the last thread of
// its group). Each task has an order key, increasing along s.tasks; a pid
// maps to its key, and a binary search over the keys finds the index. An
// exit or a thread's fork then shifts the tasks after it without touching
// the index (rebuilding a pid→index map each time was quadratic: 5,000
// exits among 100,000 tasks took 40 s).
//
// An exit leaves a hole (a task with PID 0, its key kept so the keys stay
// increasing) instead of moving every task after it; the holes go when
// something walks the tasks anyway (compactTasks, called by each walk: a
// sweep, a view, a fingerprint), or when they are half the table. So
// exits cost O(1) each, amortized.
//
// Below indexMin tasks there is no index at all (ordOf is nil): a scan of
// a few tasks is faster than a map, and a clone then shares nothing it
// must copy when it forks (explore clones at every step; copying the maps
// was a tenth of its allocations). The index is built when the table
// first reaches indexMin and kept from then on.
type taskIndex struct {
	ords    []uint64       // parallel to s.tasks, increasing
	ordOf   map[int]uint64 // pid → order key
	tgLast  map[int]int    // tgid → pid of its member latest in the order
	tgCount map[int]int    // tgid → number of members
	holes   int            // tasks with PID 0 in s.tasks
	// shared: a Clone shares the index with its source until either
	// changes it (own copies it then); explore clones far more often
	// than tasks come and go.
	shared bool
}

// own makes the index the machine's own before a change (only an
// index in use is ever changed: without one there is nothing to share).
func (x *taskIndex) own() {
	if x.shared {
		*x = x.clone()
	}
}

// ordGap spaces the keys of appended tasks; ordStep bounds how far past
// its predecessor a key inserted inside a gap lands, so that many threads
// of one group fit before the keys need renumbering.
const (
	ordGap  = 1 << 32
	ordStep = 1 << 16
)

// indexMin is the table size at which the index is built.
const indexMin = 48

func newTaskIndex() taskIndex { return taskIndex{} }

// indexed reports whether the maps are in use.
func (x *taskIndex) indexed() bool { return x.ordOf != nil }

// buildIndex makes the index of s.tasks (as it stands, holes closed).
func (s *Sim) buildIndex() {
	s.compactTasks()
	x := &s.tidx
	*x = taskIndex{ords: make([]uint64, len(s.tasks)), ordOf: make(map[int]uint64, len(s.tasks)), tgLast: map[int]int{}, tgCount: map[int]int{}}
	for i := range s.tasks {
		t := &s.tasks[i]
		x.ords[i] = uint64(i+1) * ordGap
		x.ordOf[t.PID] = x.ords[i]
		x.tgLast[t.TGID] = t.PID
		x.tgCount[t.TGID]++
	}
}

func (x *taskIndex) clone() taskIndex {
	c := taskIndex{
		holes:   x.holes,
		ords:    append([]uint64(nil), x.ords...),
		ordOf:   make(map[int]uint64, len(x.ordOf)),
		tgLast:  make(map[int]int, len(x.tgLast)),
		tgCount: make(map[int]int, len(x.tgCount)),
	}
	for k, v := range x.ordOf {
		c.ordOf[k] = v
	}
	for k, v := range x.tgLast {
		c.tgLast[k] = v
	}
	for k, v := range x.tgCount {
		c.tgCount[k] = v
	}
	return c
}

// find returns the index of pid in s.tasks, or -1.
func (s *Sim) findTask(pid int) int {
	x := &s.tidx
	if !x.indexed() {
		if pid == 0 {
			return -1 // a hole's PID
		}
		for i := range s.tasks {
			if s.tasks[i].PID == pid {
				return i
			}
		}
		return -1
	}
	o, ok := x.ordOf[pid]
	if !ok {
		return -1
	}
	i := sort.Search(len(x.ords), func(i int) bool { return x.ords[i] >= o })
	if i < len(x.ords) && x.ords[i] == o {
		return i
	}
	return -1
}

// insertTask adds t in for_each_process_thread order. A thread goes
// after its group's last member: into a hole there if there is one, else
// the tasks after it move to open a gap of holes (a gap buffer), so the
// next threads of the group take no move at all.
func (s *Sim) insertTask(t Task) {
	x := &s.tidx
	if !x.indexed() {
		if len(s.tasks)-x.holes+1 < indexMin {
			s.insertSmall(t)
			return
		}
		s.buildIndex()
	}
	x.own()
	at := len(s.tasks) // where t goes
	if t.TGID != t.PID {
		if last, ok := x.tgLast[t.TGID]; ok {
			at = s.findTask(last) + 1
		}
	}
	switch {
	case at < len(s.tasks) && s.tasks[at].PID == 0:
		s.tasks[at] = t // the hole's key lies between its neighbours'
		x.holes--
	case at == len(s.tasks):
		o := uint64(ordGap)
		if at > 0 {
			o = x.ords[at-1] + ordGap
		}
		s.tasks = append(s.tasks, t)
		x.ords = append(x.ords, o)
	default:
		lo, hi := uint64(0), x.ords[at]
		if at > 0 {
			lo = x.ords[at-1]
		}
		gap := 1 + len(s.tasks)/gapShare // t and gap-1 holes
		step := min((hi-lo)/uint64(gap+1), ordStep)
		if step == 0 {
			s.renumberTasks()
			s.insertTask(t)
			return
		}
		s.tasks = append(s.tasks, make([]Task, gap)...)
		copy(s.tasks[at+gap:], s.tasks[at:])
		clear(s.tasks[at+1 : at+gap])
		s.tasks[at] = t
		x.ords = append(x.ords, make([]uint64, gap)...)
		copy(x.ords[at+gap:], x.ords[at:])
		for k := range gap {
			x.ords[at+k] = lo + uint64(k+1)*step
		}
		x.holes += gap - 1
	}
	x.ordOf[t.PID] = x.ords[at]
	x.tgLast[t.TGID] = t.PID // inserted after the group's last, or appended
	x.tgCount[t.TGID]++
}

// insertSmall is insertTask without an index: a thread goes after the
// last task of its group (the one latest in the order, as tgLast says).
func (s *Sim) insertSmall(t Task) {
	at := len(s.tasks)
	if t.TGID != t.PID {
		for i := len(s.tasks) - 1; i >= 0; i-- {
			if s.tasks[i].TGID == t.TGID && s.tasks[i].PID != 0 {
				at = i + 1
				break
			}
		}
	}
	switch {
	case at == len(s.tasks):
		s.tasks = append(s.tasks, t)
	case s.tasks[at].PID == 0:
		s.tasks[at] = t
		s.tidx.holes--
	default:
		s.tasks = slices.Insert(s.tasks, at, t)
	}
}

// gapShare: a gap opened for a thread has room for 1/gapShare of the
// tasks, so n threads forked into one group move the table O(gapShare)
// times in all.
const gapShare = 32

// removeTask takes the task at index i out of s.tasks.
func (s *Sim) removeTask(i int) {
	x := &s.tidx
	if !x.indexed() {
		s.tasks[i] = Task{}
		if x.holes++; x.holes*2 > len(s.tasks) {
			s.compactTasks()
		}
		return
	}
	x.own()
	t := &s.tasks[i]
	pid, tg := t.PID, t.TGID
	delete(x.ordOf, pid)
	if x.tgCount[tg]--; x.tgCount[tg] == 0 {
		delete(x.tgCount, tg)
		delete(x.tgLast, tg)
	} else if x.tgLast[tg] == pid {
		// The group's members are adjacent unless a scenario gave
		// threads a group before its leader existed; look back (holes
		// have TGID 0).
		for j := i - 1; j >= 0; j-- {
			if s.tasks[j].TGID == tg && s.tasks[j].PID != 0 {
				x.tgLast[tg] = s.tasks[j].PID
				break
			}
		}
	}
	s.tasks[i] = Task{} // a hole: PID 0, its key kept
	if x.holes++; x.holes*2 > len(s.tasks) {
		s.compactTasks()
	}
}

// compactTasks closes the holes exits left, keeping the order. Every walk
// over s.tasks calls it first, so walks never see a hole.
func (s *Sim) compactTasks() {
	x := &s.tidx
	if x.holes == 0 {
		return
	}
	if !x.indexed() {
		s.tasks = slices.DeleteFunc(s.tasks, func(t Task) bool { return t.PID == 0 })
		x.holes = 0
		return
	}
	x.own()
	j := 0
	for i := range s.tasks {
		if s.tasks[i].PID != 0 {
			s.tasks[j], x.ords[j] = s.tasks[i], x.ords[i]
			j++
		}
	}
	clear(s.tasks[j:])
	s.tasks, x.ords = s.tasks[:j], x.ords[:j]
	x.holes = 0
}

// renumberTasks spreads the order keys out again.
func (s *Sim) renumberTasks() {
	x := &s.tidx
	s.compactTasks()
	if !x.indexed() {
		return
	}
	x.own()
	for i := range s.tasks {
		o := uint64(i+1) * ordGap
		x.ords[i] = o
		x.ordOf[s.tasks[i].PID] = o
	}
}
