package sim

import "sort"

// taskIndex finds a task by pid in s.tasks, which stays in
// for_each_process_thread order (a thread goes after the last thread of
// its group). Each task has an order key, increasing along s.tasks; a pid
// maps to its key, and a binary search over the keys finds the index. An
// exit or a thread's fork then shifts the tasks after it without touching
// the index (rebuilding a pid→index map each time was quadratic: 5,000
// exits among 100,000 tasks took 40 s).
type taskIndex struct {
	ords    []uint64       // parallel to s.tasks, increasing
	ordOf   map[int]uint64 // pid → order key
	tgLast  map[int]int    // tgid → pid of its member latest in the order
	tgCount map[int]int    // tgid → number of members
}

// ordGap spaces the keys of appended tasks; ordStep bounds how far past
// its predecessor a key inserted inside a gap lands, so that many threads
// of one group fit before the keys need renumbering.
const (
	ordGap  = 1 << 32
	ordStep = 1 << 16
)

func newTaskIndex() taskIndex {
	return taskIndex{ordOf: map[int]uint64{}, tgLast: map[int]int{}, tgCount: map[int]int{}}
}

func (x *taskIndex) clone() taskIndex {
	c := taskIndex{
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

// insertTask adds t in for_each_process_thread order.
func (s *Sim) insertTask(t Task) {
	x := &s.tidx
	at := len(s.tasks) // where t goes
	if t.TGID != t.PID {
		if last, ok := x.tgLast[t.TGID]; ok {
			at = s.findTask(last) + 1
		}
	}
	var o uint64
	switch {
	case at == len(s.tasks) && at == 0:
		o = ordGap
	case at == len(s.tasks):
		o = x.ords[at-1] + ordGap
	default:
		lo, hi := uint64(0), x.ords[at]
		if at > 0 {
			lo = x.ords[at-1]
		}
		if hi-lo < 2 {
			s.renumberTasks()
			s.insertTask(t)
			return
		}
		o = lo + min((hi-lo)/2, ordStep)
	}
	s.tasks = append(s.tasks, Task{})
	copy(s.tasks[at+1:], s.tasks[at:])
	s.tasks[at] = t
	x.ords = append(x.ords, 0)
	copy(x.ords[at+1:], x.ords[at:])
	x.ords[at] = o
	x.ordOf[t.PID] = o
	x.tgLast[t.TGID] = t.PID // inserted after the group's last, or appended
	x.tgCount[t.TGID]++
}

// removeTask takes the task at index i out of s.tasks.
func (s *Sim) removeTask(i int) {
	x := &s.tidx
	t := &s.tasks[i]
	pid, tg := t.PID, t.TGID
	delete(x.ordOf, pid)
	if x.tgCount[tg]--; x.tgCount[tg] == 0 {
		delete(x.tgCount, tg)
		delete(x.tgLast, tg)
	} else if x.tgLast[tg] == pid {
		// The group's members are adjacent unless a scenario gave
		// threads a group before its leader existed; look back.
		for j := i - 1; j >= 0; j-- {
			if s.tasks[j].TGID == tg {
				x.tgLast[tg] = s.tasks[j].PID
				break
			}
		}
	}
	copy(s.tasks[i:], s.tasks[i+1:])
	s.tasks[len(s.tasks)-1] = Task{}
	s.tasks = s.tasks[:len(s.tasks)-1]
	copy(x.ords[i:], x.ords[i+1:])
	x.ords = x.ords[:len(x.ords)-1]
}

// renumberTasks spreads the order keys out again.
func (s *Sim) renumberTasks() {
	x := &s.tidx
	for i := range s.tasks {
		o := uint64(i+1) * ordGap
		x.ords[i] = o
		x.ordOf[s.tasks[i].PID] = o
	}
}
