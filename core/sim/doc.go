// Package sim is a deterministic simulation of the Linux kernel's livepatch
// consistency model: kernel/livepatch/transition.c and the parts of core.c
// and patch.c that drive it.
//
// A Sim is a state machine with one entrance: Step applies an Input (a
// module load, a sysfs write, a task's call or sleep, time passing, or a
// piece of the kernel's own work), and Ready returns what happened, as
// data: kernel log lines and typed events. Pending lists what the kernel
// will do by itself next, so a driver can take the typical order or choose
// another. Nothing happens between steps; time moves only through Advance
// and the kernel-work inputs. There is no package-level mutable state, no
// goroutine, no wall clock and no randomness beyond Config.Seed.
//
// # Races as interleavable steps
//
// Where the kernel orders two CPUs' work with a lock or a barrier pair, and
// a kernel version got it wrong, the model splits the work into inputs that
// other inputs can come between. Each pairing, against its comment in
// kernel/livepatch/transition.c (the seeds in shared/seeds):
//
// Fork against a transition (ForkBegin, ForkFinish). dup_task_struct copies
// the parent's thread flags, TIF_PATCH_PENDING among them, early in
// copy_process; klp_copy_process runs much later, under tasklist_lock, just
// before the child joins the task list. klp_init_transition,
// klp_reverse_transition and klp_complete_transition walk the task list
// under tasklist_lock too, so they either see the child (after
// klp_copy_process) or not at all. Before 747f7a290117 (v6.1)
// klp_copy_process copied only patch_state, so a reversal or completion in
// between left the child with a stale flag ("TIF_PATCH_PENDING gets copied
// in setup_thread_stack()"), and klp_complete_transition's
// WARN_ON_ONCE(test_tsk_thread_flag(task, TIF_PATCH_PENDING)) fired. Since
// v6.1 it brings the flag up to date from the parent ("The parent process
// may have gone through a KLP transition since the thread flag was copied
// in setup_thread_stack earlier"). Fork is ForkBegin then ForkFinish with
// nothing between, the typical case; a scenario interleaves with
// `fork … dup-only` and `fork-finish`. Profile.CopyProcessSyncsFlag.
//
// The ftrace handler against a transition (CallBegin, CallFinish;
// handler.go). klp_ftrace_handler reads the func_stack's first entry,
// then its transition flag, then (after smp_rmb) the task's patch_state;
// the smp_wmb in klp_init_transition ("Enforce the order of the
// task->patch_state initializations and the func->transition updates")
// and in __klp_disable_patch pair with it. What keeps a handler from
// reading a half-done transition is klp_synchronize_transition in
// klp_complete_transition ("Prevent klp_ftrace_handler() from seeing
// KLP_TRANSITION_IDLE state"; "Make sure klp_ftrace_handler() can no
// longer see functions from this patch on the ops->func_stack") and
// ftrace_shutdown's synchronize_rcu_tasks_rude: each waits for every CPU
// to schedule, which a CPU inside the handler (preemption disabled)
// cannot. `call … split` stops the handler after its func_stack read
// (`split=transition`: after the flag's) and `call-finish` goes on; every
// synchronisation finishes the handlers in flight first, with an event
// naming the CPU it waited for. The task is not preempted half-way
// either: running another task on its CPU, waking the kworker or the
// shell there, or taking the CPU offline (stop_machine) finishes its
// handler first. In the RFC what-if synchronize_rcu() does
// not wait where RCU is not watching (Task.NoRCU): that handler finishes
// later and reads patch_state -1, and klp_ftrace_handler's WARN_ON_ONCE
// fires.
//
// The cond_resched hook's loads are steps too (handler.go): `cond_resched
// PID split` stops __klp_sched_try_switch with klp_target_state loaded for
// its compare and final store, and `cond_resched-finish` checks the stack
// (loading the target again) and stores the value loaded first. Nothing
// orders the two loads (plain loads of one variable), so a weakly ordered
// CPU or the compiler may make them in that order; the split offers that
// one reordering, not a memory model. Before v6.4 klp_reverse_transition
// flipped klp_target_state before clearing the pending flags
// (Profile.ReverseClearsFirst models the order). With only
// klp_update_patch_state acting on the flag that order is safe (the
// synchronisation after the clear covers it), and in program order it is
// safe with the hook too: the store re-reads the target after the flip,
// and the task was already in the new target's state. With the store's
// load made early it is not: the hook checks the stack for the new target
// and stores the old one, so a task with old code on its stack counts as
// patched — the race review found in the series' first version (Feb 2023:
// the reversal "modifies klp_target_state when __klp_sched_try_switch
// might be in the middle of klp_check_stack()"), the what-if profile
// cond-resched-v1. v2 moved the clear and the synchronisation first: the
// synchronisation finishes the hook before the flip, so both loads see one
// target (v6.4, "Make sure all existing invocations of
// klp_update_patch_state() and __klp_sched_try_switch() see the cleared
// TIF_PATCH_PENDING before starting the reverse transition"); v3 added
// the barriers.
package sim
