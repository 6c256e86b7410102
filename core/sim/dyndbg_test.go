package sim

import (
	"strings"
	"testing"
)

const ddControlPath = "/proc/dynamic_debug/control"

// The harness's queries, the kernel's grammar and its errors, and what
// each setting lets through to the log.
func TestDynamicDebug(t *testing.T) {
	initLine := "livepatch: 'lp': initializing patching transition"
	// a kthread busy in the kernel on CPU 1 keeps the first attempt from
	// completing (from v6.4 the hook's text poke switches idle CPUs)
	runLine := "livepatch: klp_try_switch_task: spin:900 is running"
	for _, tc := range []struct {
		name    string
		prof    string
		off     bool     // start as a real box does
		queries []string // one write each
		errno   Errno    // of the last write
		errLog  []string // the kernel's error lines
		show    []string
		hide    []string
		control []string // substrings of the control file afterwards
	}{
		{name: "playground default", show: []string{initLine, runLine},
			control: []string{`kernel/livepatch/transition.c:591 [livepatch]klp_init_transition =p "'%s': initializing %s transition\n"`}},
		{name: "real box", off: true, hide: []string{initLine, runLine},
			control: []string{`[livepatch]klp_try_switch_task =_ "%s: %s:%d is running\n"`}},
		{name: "the harness", off: true, queries: []string{"file kernel/livepatch/* +p", "func klp_try_switch_task -p"},
			show: []string{initLine}, hide: []string{runLine}},
		{name: "harness in one write", off: true, queries: []string{"file kernel/livepatch/* +p\nfunc klp_try_switch_task -p\n"},
			show: []string{initLine}, hide: []string{runLine}},
		{name: "old profile: one %s site", prof: "5.15", off: true, queries: []string{"file transition.c +p", "func klp_try_switch_task -p"},
			show: []string{initLine}, hide: []string{runLine},
			control: []string{`transition.c:345 [livepatch]klp_try_switch_task =_ "%s"`}},
		{name: "module and line range", off: true, queries: []string{"module livepatch line 500-600 +p"},
			show: []string{initLine}, hide: []string{runLine}},
		{name: "file:line", off: true, queries: []string{"file kernel/livepatch/transition.c:345 +p"},
			show: []string{runLine}, hide: []string{initLine}},
		{name: "format", queries: []string{`format "is running" -p`}, show: []string{initLine}, hide: []string{runLine}},
		{name: "= sets exactly", queries: []string{"func klp_init_transition =pfl"},
			show:    []string{"klp_init_transition:591: " + initLine},
			control: []string{"klp_init_transition =pfl "}},
		{name: "+m +t prefix", queries: []string{"func klp_init_transition +mt"},
			show: []string{"[0] livepatch: " + initLine}},
		{name: "unknown keyword", queries: []string{"funk x +p"}, errno: EINVAL,
			errLog: []string{`dynamic_debug:ddebug_parse_query: unknown keyword "funk"`, "dynamic_debug:ddebug_exec_query: query parse failed"}},
		{name: "no flag-op", queries: []string{"func x p"}, errno: EINVAL,
			errLog: []string{"dynamic_debug:ddebug_parse_flags: bad flag-op p, at start of p", "dynamic_debug:ddebug_exec_query: flags parse failed"}},
		{name: "unknown flag", queries: []string{"func x +z"}, errno: EINVAL,
			errLog: []string{"dynamic_debug:ddebug_parse_flags: unknown flag 'z'"}},
		{name: "odd words", queries: []string{"func +p"}, errno: EINVAL,
			errLog: []string{"dynamic_debug:ddebug_parse_query: expecting pairs of match-spec <value>"}},
		{name: "bad line", queries: []string{"line 9-3 +p"}, errno: EINVAL,
			errLog: []string{"dynamic_debug:parse_linerange: last-line:3 < 1st-line:9"}},
		{name: "a bad query does not stop the good ones", off: true, queries: []string{"funk x +p; func klp_init_transition +p"}, errno: EINVAL,
			show: []string{initLine}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prof := tc.prof
			if prof == "" {
				prof = "6.16"
			}
			s := newSim(t, prof, withCPUs(2))
			if tc.off {
				s.DynDebugOff()
			}
			var err error
			for _, q := range tc.queries {
				err = s.WriteFile(ddControlPath, q+"\n")
			}
			if tc.errno != 0 {
				wantErrno(t, "write", err, tc.errno)
			} else {
				must(t, err)
			}
			got := logTexts(s)
			for _, l := range tc.errLog {
				if count(got, l) != 1 {
					t.Errorf("want error line %q in %q", l, got)
				}
			}
			addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			spawn(t, s, TaskSpec{PID: 900, Comm: "spin", Kind: Kthread, State: Running, CPU: 1, Stack: frames("kthread", "worker_thread")})
			must(t, s.Insmod("lp"))
			got = logTexts(s)
			for _, l := range tc.show {
				if count(got, l) == 0 {
					t.Errorf("want %q in %q", l, got)
				}
			}
			for _, l := range tc.hide {
				if count(got, l) != 0 {
					t.Errorf("%q printed while disabled", l)
				}
			}
			ctl := read(t, s, "/sys/kernel/debug/dynamic_debug/control")
			if !strings.HasPrefix(ctl, "# filename:lineno [module]function flags format\n") {
				t.Errorf("control header: %q", ctl)
			}
			for _, c := range tc.control {
				if !strings.Contains(ctl, c) {
					t.Errorf("control lacks %q:\n%s", c, ctl)
				}
			}
		})
	}
}

func TestKmsgAndDmesgClear(t *testing.T) {
	for _, tc := range []struct {
		write string
		level Level
		text  string
	}{
		{"% insmod test_modules/x.ko\n", LevelWarn, "% insmod test_modules/x.ko"},
		{"<6>livepatch: ok\n", LevelInfo, "livepatch: ok"},
		{"<14>user info", LevelInfo, "user info"},
		{"<x>not a level\n", LevelWarn, "<x>not a level"},
		{"<>empty\n", LevelWarn, "<>empty"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			s := newSim(t, "6.16")
			must(t, s.WriteFile("/dev/kmsg", "before\n"))
			s.DmesgClear()
			must(t, s.WriteFile("/dev/kmsg", tc.write))
			d := s.Dmesg()
			if len(d) != 1 || d[0].Level != tc.level || d[0].Text != tc.text {
				t.Fatalf("dmesg after clear = %+v, want one %s line %q", d, tc.level, tc.text)
			}
			if n := len(s.Log()); n != 2 {
				t.Fatalf("the clear must keep the records (%d)", n)
			}
		})
	}
}

// Livepatch's ftrace_ops are permanent: ftrace_enabled cannot be turned
// off while a patch is applied, and a patch cannot be applied while it is
// off.
func TestFtraceEnabled(t *testing.T) {
	s := newSim(t, "6.16")
	addMods(t, s, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
	const f = "/proc/sys/kernel/ftrace_enabled"
	must(t, s.WriteFile(f, "0\n"))
	wantErrno(t, "insmod with ftrace off", s.Insmod("lp"), EBUSY)
	must(t, s.WriteFile(f, "1\n"))
	must(t, s.Insmod("lp"))
	wantErrno(t, "ftrace_enabled=0 under a livepatch", s.WriteFile(f, "0\n"), EBUSY)
	if v := read(t, s, f); v != "1\n" {
		t.Fatalf("ftrace_enabled = %q after the refused write", v)
	}
	wantErrno(t, "ftrace_enabled=x", s.WriteFile(f, "x\n"), EINVAL)
}
