package scenario

import "strings"

// md turns ‹ into a backquote, so Markdown can live in a raw string.
func md(s string) string { return strings.ReplaceAll(s, "‹", "`") }

// paramsDoc documents typed module parameters and pidcount (iface's
// part of docs/scenario.md).
var paramsDoc = md(`
Module parameters (‹param NAME DEFAULT‹ here, ‹param.NAME=DEFAULT‹ on a
‹module‹ line) are ints, or bools when the default is Y or N; ‹NAME:TYPE‹
names the type: ‹int‹, ‹bool‹, ‹charp‹ (a string) or ‹int[]‹ (an array,
‹klp_pids=1,2,3‹). A value that does not parse fails the load with
‹EINVAL‹ and the kernel's ‹NAME: 'VALUE' invalid for parameter 'P'‹.
‹pidcount FILE param.NAME‹ is test_klp_syscall's counter: FILE reads how
many pids of the ‹int[]‹ parameter have not yet run one of the patch's
replacement functions.
`)

// filesDoc documents the kernel interfaces outside livepatch's sysfs.
var filesDoc = md(`
- ‹/dev/kmsg‹: ‹echo "TEXT" > /dev/kmsg‹ logs TEXT as one record, at level
  4 (warning) or at the level of a ‹<N>‹ prefix (‹echo "<6>% insmod x.ko" >
  /dev/kmsg‹; N & 7 is the level). This is how the selftests' harness logs
  the commands it runs. Reading it gives every record as
  ‹level,seq,usec,-;text‹.
- ‹/proc/dynamic_debug/control‹ (also ‹/sys/kernel/debug/dynamic_debug/control‹):
  the livepatch ‹pr_debug‹ call sites of kernel/livepatch/transition.c, read
  back as the kernel prints them (‹kernel/livepatch/transition.c:591
  [livepatch]klp_init_transition =p "'%s': initializing %s transition\n"‹;
  line numbers are the current kernel's in every profile). A write is one or
  more queries (one per line or ‹;‹): match-specs ‹file GLOB[:LINES]‹,
  ‹func GLOB‹, ‹module GLOB‹, ‹line N[-M]‹, ‹format "TEXT"‹, then flags
  ‹+‹/‹-‹/‹=‹ with ‹p‹ (print), ‹m‹ ‹f‹ ‹s‹ ‹l‹ ‹t‹ (prefix the module,
  function, source file, line, thread id) or ‹_‹. A bad query logs the
  kernel's ‹dynamic_debug:…‹ error and the write fails with ‹EINVAL‹; the
  other queries of the write still apply. The scenario language quotes with
  ‹"‹ only: ‹echo "file kernel/livepatch/* +p" > /proc/dynamic_debug/control‹.
  The playground starts with every livepatch ‹pr_debug‹ enabled (the lessons
  show them); a real box starts with none, and
  ‹echo "module livepatch =_" > /proc/dynamic_debug/control‹ is that one
  line. Before v5.16 the per-task lines are one call site,
  ‹klp_try_switch_task‹'s ‹pr_debug("%s", err_buf)‹.
- ‹/sys/kernel/tracing/{current_tracer,set_ftrace_filter,tracing_on,trace}‹
  (also under ‹/sys/kernel/debug/tracing‹): the function tracer, enough for
  test-ftrace. ‹echo function > current_tracer‹, ‹echo FUNC… >
  set_ftrace_filter‹ (globs; a name that matches no function fails with
  ‹EINVAL‹), ‹echo 1 > tracing_on‹; each call of a traced function adds a
  line to ‹trace‹ (‹TASK-PID [CPU] ..... TIME: func <-caller‹; the header is
  abbreviated). A patched function's original is traced whether or not the
  livepatch redirects it; the replacement, entered by a jump from there,
  shows the original's caller. Writing ‹trace‹ clears it.
- ‹/sys/kernel/debug/kprobes/enabled‹ (0 disarms every kprobe, and with it
  their conflicts) and ‹/sys/kernel/debug/kprobes/list‹.
- ‹/proc/sys/kernel/ftrace_enabled‹: livepatch's ftrace_ops are permanent,
  so writing 0 while any livepatch function is on a func_stack fails with
  ‹EBUSY‹ (‹sysctl: setting key "kernel.ftrace_enabled": Device or resource
  busy‹); while it is 0, enabling a patch fails with
  ‹failed to register ftrace handler for function '…' (-16)‹.
`)
