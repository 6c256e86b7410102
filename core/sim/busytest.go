package sim

import "slices"

// test_klp_callbacks_busy: its init queues a work item on the system
// workqueue whose function, busymod_work_func, prints "enter", then
// busy-waits (msleep(20) in a loop) while the block_transition parameter
// is set, then prints "exit". With block_transition=N the init flushes the
// work, so both lines come before the init returns; with Y a kworker stays
// in busymod_work_func, blocking any transition that patches it, until the
// module's exit clears the flag and flushes the work.
//
// Before v5.9 the module took sleep_secs instead: the work printed
// "busymod_work_func, sleeping N seconds ...", slept N seconds in msleep,
// then printed "exit"; the exit's cancel_delayed_work_sync waited for it.
// A module declaring param.sleep_secs gets that program. The N-second
// timer itself is not modelled: the kworker sleeps until the module's exit
// (the selftest unloads the module within the 10 s it asks for).

// busyFrames is where the kworker sleeps while the work blocks.
var busyFrames = []string{"worker_thread", "process_one_work", "busymod_work_func", "msleep", "schedule_timeout", "schedule"}

func busyProgram(s *Sim, mod string) Errno {
	block, why := false, "block_transition=Y"
	if secs, old := s.param(mod, "sleep_secs"); old {
		s.printk(LevelInfo, "%s: busymod_work_func, sleeping %s seconds ...", mod, secs)
		block, why = secs != "0", "sleep_secs="+secs
	} else {
		s.printk(LevelInfo, "%s: busymod_work_func enter", mod)
		v, _ := s.param(mod, "block_transition")
		block = v == "Y"
	}
	if !block {
		s.printk(LevelInfo, "%s: busymod_work_func exit", mod)
		return 0
	}
	var stack []FrameSpec
	for _, f := range busyFrames {
		if f == "busymod_work_func" {
			f = mod + ":" + f
		}
		if _, _, err := s.ResolveFunc(f); err == nil {
			stack = append(stack, FrameSpec{Func: f})
		}
	}
	// msleep is TASK_UNINTERRUPTIBLE: the fake signal cannot move it.
	if _, err := s.Spawn(TaskSpec{Comm: "kworker/0:1", Kind: Kthread, State: Uninterruptible, Stack: stack}); err != nil {
		return ENOMEM
	}
	s.event(Event{Kind: EvTask, Text: mod + ": busymod_work_func blocks on the system workqueue (" + why + ")"})
	return 0
}

// busyExit is the start of the module's exit: WRITE_ONCE(block_transition,
// false); flush_work(). A kworker still in the work function leaves it and
// goes back to waiting for work.
func busyExit(s *Sim, mod string) {
	s.compactTasks() // walks the tasks
	for i := range s.tasks {
		t := &s.tasks[i]
		k := slices.IndexFunc(t.Stack, func(f Frame) bool {
			c := &s.code[f.Called]
			return c.Obj == mod && c.Name == "busymod_work_func"
		})
		if k < 0 {
			continue
		}
		// process_one_work (if there) returns to worker_thread, which
		// sleeps until more work comes.
		if k > 0 && s.code[t.Stack[k-1].Code].Name == "process_one_work" {
			k--
		}
		t.Stack = t.Stack[:k]
		t.State = Interruptible
		if _, id, err := s.ResolveFunc("schedule"); err == nil {
			s.push(t, id, 0)
		}
		s.printk(LevelInfo, "%s: busymod_work_func exit", mod)
	}
}
