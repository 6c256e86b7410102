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
// Not yet steps (each is atomic here, so the order the kernel enforces is
// the only one the model can take):
//
//   - The ftrace handler reads the func_stack, then func->transition, then
//     the task's patch_state, ordered by smp_rmb against the smp_wmb in
//     klp_init_transition ("Enforce the order of the task->patch_state
//     initializations and the func->transition updates") and
//     __klp_disable_patch; klp_update_patch_state's
//     test_and_clear_tsk_thread_flag is the read barrier against
//     klp_reverse_transition's smp_wmb ("Enforce the order of the
//     klp_target_state write and the TIF_PATCH_PENDING writes").
//   - Before v6.4 klp_reverse_transition flipped klp_target_state before
//     clearing the pending flags, so a scheduler-hook switch
//     (__klp_sched_try_switch) running in between could set a task to the
//     wrong state; v6.4 clears the flags and synchronises first
//     (Profile.ReverseClearsFirst models the order, not the race).
package sim
