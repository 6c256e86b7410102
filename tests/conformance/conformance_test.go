// Package conformance replays the Linux kernel's livepatch selftests
// (tools/testing/selftests/livepatch/test-*.sh) on the simulator and
// compares what the selftest harness would see with the selftests' own
// expected output.
//
// Each case is a pair of files under testdata/<script>/:
//
//   - <NN-slug>.klp: a scenario (docs/scenario.md) declaring the machine and
//     the test modules, then what the script and its harness
//     (functions.sh) do, as shell commands;
//   - <NN-slug>.golden: the case's check_result argument, verbatim, with the
//     script's variables expanded. It is the selftest's expected output and
//     is never generated from the simulator.
//
// The harness is in the scenario, as the kernel sees it:
//
//	setup_config           echo "module livepatch =_" > …/dynamic_debug/control  (a real box)
//	                       echo "file kernel/livepatch/* +p" > …/dynamic_debug/control
//	                       echo "func klp_try_switch_task -p" > …/dynamic_debug/control
//	start_test T           echo "livepatch kselftest timestamp: 0" > /dev/kmsg; dmesg -C;
//	                       echo "===== TEST: T =====" > /dev/kmsg
//	                       (before v6.x's dmesg -C: dmesg  # save_dmesg, and
//	                       check_result keeps what follows, as comm -13 does)
//	load_mod / load_lp M   echo "% insmod test_modules/M.ko" > /dev/kmsg; insmod test_modules/M.ko
//	                       (load_lp: settle; cat …/M/transition  # loop_until "0")
//	load_failing_mod M     the same, the insmod annotated # load_failing_mod, then
//	                       echo "<its error>" > /dev/kmsg   # log "$ret"
//	disable_lp M           echo "% echo 0 > …/M/enabled" > /dev/kmsg; echo 0 > …/M/enabled; settle;
//	                       ls /sys/kernel/livepatch  # loop_until ! -e M
//	unload_mod / _lp M     echo "% rmmod M" > /dev/kmsg; rmmod M
//	set_ftrace_enabled V   sysctl -q kernel.ftrace_enabled=V, then its log line to /dev/kmsg
//	                       (--fail: annotated # set_ftrace_enabled --fail, then
//	                       echo "livepatch: <sysctl's error>" > /dev/kmsg  # log "livepatch: $err")
//	                       (before v5.9: sysctl kernel.ftrace_enabled=V annotated
//	                       # result=$(sysctl … 2>&1 | paste), then
//	                       echo "livepatch: <what it printed>" > /dev/kmsg  # log "livepatch: $result")
//
// Before v5.9 there is no start_test: each test runs dmesg -C itself, and
// before v5.5 set_dynamic_debug writes both queries at once (one echo
// with "; ") and nothing sets ftrace_enabled.
//
// The runner checks that what a scenario logs for the harness is what the
// simulator's tools printed (the loader's and sysctl's errors), and that
// the harness would not die (a load or unload that prints an error).
//
// Checks the harness makes without logging anything are written as a
// trailing annotation comment on the statement that reads the value:
//
//	cat PATH        # check_sysfs_value "VALUE"    (sysctl -n KEY too)
//	cat PATH        # loop_until "VALUE"          (same check; the sim does not need the wait)
//	ls -l DIR       # check_sysfs_rights NAME "MODE"   (the mode of the entry DIR/NAME)
//	cat FILE        # cat /proc/FILE == "TEXT"    (or !=)
//	cat FILE        # grep 'live patched' /proc/FILE > /dev/kmsg
//	cat …/trace     # grep -Fwq "FUNC"            (check_traced_functions)
//	ls DIR          # nmods N                     (mods=($SYSFS_KLP_DIR/*); nmods=${#mods[@]})
//	ls DIR          # loop_until ! -e NAME        (DIR/NAME is gone)
//
// Every scenario declares the script's bash as the shell (`task 43 bash
// user`, `shell 43`): the harness's writes, insmod/modprobe and rmmod are
// its system calls, and a write that completes an unpatching leaves it
// asleep until the grace period ends, which the `settle` standing for the
// harness's next wait brings about. The files the harness reads
// (/proc/cmdline, /proc/meminfo, /proc/test_klp_mod_target) are declared
// with `file`: `cat FILE` is the harness's cat or grep, which bash forks
// and which starts in bash's patch state, calling the file's function
// through the ftrace handler as the shell's task; the test modules'
// replacements declare prints="{mod}: this has been live patched" as they
// print it with THIS_MODULE->name. The grep form writes the text to
// /dev/kmsg when it contains "live patched", as the harness does.
//
// Cases listed in KNOWN.md are run too; a failure is then reported as a
// skip with the listed reason, and a pass as an error (the entry is stale).
package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/klp-playground/klp/core/scenario"
)

// expectedCases is how many cases each selftest script has.
var expectedCases = map[string]int{
	"test-livepatch":   5,
	"test-callbacks":   11,
	"test-state":       4,
	"test-sysfs":       5,
	"test-ftrace":      3,
	"test-kprobe":      2,
	"test-syscall":     1,
	"test-shadow-vars": 1,
	// Older copies of the scripts, in testdata/<script>-v<version>.
	"test-livepatch-v5.10":   3,
	"test-callbacks-v5.10":   11,
	"test-ftrace-v5.10":      1,
	"test-shadow-vars-v5.10": 1,
	"test-state-v5.10":       4,
	"test-livepatch-v5.5":    3,
	"test-callbacks-v5.5":    11,
	"test-state-v5.5":        4,
	"test-ftrace-v5.5":       1,
	"test-shadow-vars-v5.5":  1,
	"test-livepatch-v5.4":    3,
	"test-callbacks-v5.4":    11,
	"test-shadow-vars-v5.4":  1,
	"test-sysfs-v6.1":        2,
	"test-livepatch-v6.8":    3,
	"test-callbacks-v6.8":    11,
	"test-state-v6.8":        4,
	"test-ftrace-v6.8":       1,
	"test-shadow-vars-v6.8":  1,
	"test-sysfs-v6.8":        2,
}

// era is how one version of the harness (functions.sh) builds what
// check_result compares.
type era struct {
	// callerSed: check_result also strips printk's caller id
	// ("sed 's/^\[[ ]*[CT][0-9]*\] //'"); older copies do not.
	callerSed bool
	// taint drops the taint notices: "grep -v '\(tainting\|taints\) kernel'"
	// since v5.9, "grep -v 'tainting'" before.
	taint *regexp.Regexp
}

var (
	reTaint    = regexp.MustCompile(`(tainting|taints) kernel`)
	reTainting = regexp.MustCompile(`tainting`)
	reVersion  = regexp.MustCompile(`-v([0-9]+)\.([0-9]+)$`)
)

// eraOf returns the harness era of a script directory: the current one
// unless the directory names an older copy (test-livepatch-v5.10).
func eraOf(dir string) era {
	m := reVersion.FindStringSubmatch(dir)
	if m == nil {
		return era{callerSed: true, taint: reTaint}
	}
	major, _ := strconv.Atoi(m[1]) // digits: the pattern says so
	minor, _ := strconv.Atoi(m[2])
	if major < 5 || major == 5 && minor < 9 {
		return era{taint: reTainting}
	}
	return era{taint: reTaint}
}

func TestSelftests(t *testing.T) {
	known, err := loadKnown("KNOWN.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.klp"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	count := map[string]int{}
	seen := map[string]bool{}
	for _, f := range files {
		count[filepath.Base(filepath.Dir(f))]++
		seen[caseID(f)] = true
	}
	for script, n := range expectedCases {
		if count[script] != n {
			t.Errorf("testdata/%s has %d scenarios, want %d (one per selftest case)", script, count[script], n)
		}
	}
	goldens, err := filepath.Glob(filepath.Join("testdata", "*", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if !seen[caseID(strings.TrimSuffix(g, ".golden")+".klp")] {
			t.Errorf("%s has no scenario", g)
		}
	}
	for id := range known {
		if !seen[id] {
			t.Errorf("KNOWN.md lists %s, which has no scenario", id)
		}
	}
	for _, f := range files {
		id := caseID(f)
		t.Run(id, func(t *testing.T) {
			problems := runCase(f)
			reason, isKnown := known[id]
			switch {
			case len(problems) == 0 && isKnown:
				t.Errorf("passes, but KNOWN.md lists it (%s): remove the entry", reason)
			case len(problems) > 0 && isKnown:
				t.Logf("%s", strings.Join(problems, "\n"))
				t.Skipf("known discrepancy (KNOWN.md): %s", reason)
			case len(problems) > 0:
				t.Errorf("%s", strings.Join(problems, "\n"))
			}
		})
	}
}

// caseID is "test-callbacks/09-busy-target-module" for a scenario path.
func caseID(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), ".klp")
}

// runCase runs one scenario and returns every way it differs from the
// selftest: golden-output diff, failed harness checks, harness aborts.
func runCase(path string) []string {
	src, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	golden, err := os.ReadFile(strings.TrimSuffix(path, ".klp") + ".golden")
	if err != nil {
		return []string{err.Error()}
	}
	res, problems, built := harnessResult(path, string(src))
	if !built {
		return problems
	}
	want := splitLines(string(golden))
	if d := diff(want, res); d != "" {
		problems = append(problems, "check_result differs from the selftest's expected output:\n"+d)
	}
	return problems
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// harnessResult runs the scenario and returns what check_result would
// compare: the kernel log as dmesg shows it at the end (the scenario's
// start_test clears it after the canary), through the harness's filter.
// It also returns the problems that would make the harness die or a check
// fail.
func harnessResult(path, src string) (result, problems []string, built bool) {
	sc, err := scenario.Parse(path, src)
	if err != nil {
		return nil, []string{"scenario does not parse: " + err.Error()}, false
	}
	lines := strings.Split(src, "\n")
	// The machine is built from the leading declarations; the harness
	// actions are applied one statement at a time.
	first := len(sc.Stmts)
	for i, st := range sc.Stmts {
		if !scenario.Declares(st.Verb) {
			first = i
			break
		}
	}
	prefix := src
	if first < len(sc.Stmts) {
		prefix = strings.Join(lines[:sc.Stmts[first].Pos.Line-1], "\n")
	}
	sess, _, err := scenario.NewSession(path, prefix)
	if err != nil {
		return nil, []string{"the machine cannot be built: " + err.Error()}, false
	}
	h := &harness{sess: sess}
	for _, st := range sc.Stmts[first:] {
		outs, err := sess.Apply(st)
		if err != nil {
			problems = append(problems, fmt.Sprintf("scenario fails: %v", err))
			break
		}
		for _, x := range h.step(st, outs, annotation(lines[st.Pos.Line-1])) {
			problems = append(problems, fmt.Sprintf("%s:%d: %s", filepath.Base(path), st.Pos.Line, x))
		}
	}
	dmesg := dmesgLines(sess)
	if h.saved != nil {
		// comm --nocheck-order -13 "$SAVED_DMESG" -: the saved lines are
		// a prefix of the log (nothing clears it in these scripts).
		if len(h.saved) > len(dmesg) || !slices.Equal(h.saved, dmesg[:len(h.saved)]) {
			problems = append(problems, "the log saved by save_dmesg is not a prefix of the final dmesg")
		} else {
			dmesg = dmesg[len(h.saved):]
		}
	}
	return checkResultFilter(dmesg, eraOf(filepath.Base(filepath.Dir(path)))), problems, true
}

func dmesgLines(sess *scenario.Session) []string {
	var out []string
	for _, l := range sess.Sim().Dmesg() {
		out = append(out, l.Dmesg())
	}
	return out
}

// annotation returns the trailing comment of a statement line (outside
// quotes), without the '#'.
func annotation(line string) string {
	inq := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			if inq {
				i++
			}
		case '"':
			inq = !inq
		case '#':
			if !inq {
				return strings.TrimSpace(line[i+1:])
			}
		}
	}
	return ""
}

// harness follows the statements the way the selftest harness would react
// to their results.
type harness struct {
	sess       *scenario.Session
	lastStderr string   // of the last insmod: what load_failing_mod logs
	saved      []string // save_dmesg's copy of the log, nil if none
}

// step checks one statement's outcome against what the harness expects of
// it, and runs its annotation.
func (h *harness) step(st scenario.Stmt, outs []scenario.Out, note string) (problems []string) {
	var cmd string
	var stdout, stderr []string
	for _, o := range outs {
		switch o.Kind {
		case "cmd":
			cmd = strings.TrimPrefix(o.Text, "# ")
		case "stdout":
			stdout = append(stdout, o.Text)
		case "stderr":
			stderr = append(stderr, o.Text)
		case "fail":
			problems = append(problems, "expectation failed: "+o.Text)
		case "note":
			if st.Verb == "settle" {
				problems = append(problems, "the harness's wait would time out: "+o.Text)
			}
		}
	}
	errText := strings.Join(stderr, "\n")
	switch {
	case st.Verb == "dmesg" && note == "save_dmesg":
		// start_test before dmesg -C: SAVED_DMESG=$(mktemp …); dmesg > "$SAVED_DMESG"
		h.saved = dmesgLines(h.sess)
		if len(h.saved) == 0 {
			h.saved = []string{}
		}
		return problems
	case st.Verb == "insmod" || st.Verb == "modprobe":
		h.lastStderr = errText
		switch {
		case note == "load_failing_mod" && errText == "":
			// load_failing_mod: die "$mod unexpectedly loaded"
			problems = append(problems, "harness would die: "+cmd+" unexpectedly loaded")
		case note != "load_failing_mod" && errText != "":
			// __load_mod: die "$ret"
			problems = append(problems, "harness would die: "+errText)
		}
		return problems
	case st.Verb == "echo" && note == `log "$ret"`:
		// load_failing_mod: log "$ret" — the scenario spells out what the
		// loader printed; it must be what the simulator's loader printed.
		if len(st.Args) == 0 || st.Args[0].Val != h.lastStderr {
			problems = append(problems, fmt.Sprintf("the logged loader error is not what insmod printed: %q", h.lastStderr))
		}
		return problems
	case st.Verb == "rmmod" && errText != "":
		// unload_mod: die "$ret"
		return append(problems, "harness would die: "+errText)
	case st.Verb == "echo" && errText != "":
		// disable_lp / set_pre_patch_ret: the wait for the write's effect times out.
		return append(problems, "harness would die (its wait for the write's effect times out): "+errText)
	case st.Verb == "sysctl" && note == "result=$(sysctl … 2>&1 | paste)":
		// set_ftrace_enabled before v5.9: whatever sysctl prints, errors
		// first, joined by paste into one line that is logged as is.
		h.lastStderr = strings.Join(append(stderr, stdout...), " ")
		return problems
	case st.Verb == "echo" && note == `log "livepatch: $result"`:
		if len(st.Args) == 0 || st.Args[0].Val != "livepatch: "+h.lastStderr {
			problems = append(problems, fmt.Sprintf("the logged sysctl output is not what sysctl printed: %q", h.lastStderr))
		}
		return problems
	case st.Verb == "sysctl" && strings.Contains(cmd, "="):
		// set_ftrace_enabled [--fail] V: err=$(sysctl -q …=V 2>&1)
		h.lastStderr = errText
		if errText != "" && note != "set_ftrace_enabled --fail" {
			problems = append(problems, "set_ftrace_enabled would skip: "+errText)
		}
		return problems
	case st.Verb == "echo" && note == `log "livepatch: $err"`:
		// echo "livepatch: $err" | sed 's#/proc/sys/kernel/#kernel.#' > /dev/kmsg
		want := "livepatch: " + strings.ReplaceAll(h.lastStderr, "/proc/sys/kernel/", "kernel.")
		if len(st.Args) == 0 || st.Args[0].Val != want || h.lastStderr == "" {
			problems = append(problems, fmt.Sprintf("the logged sysctl error is not what sysctl printed: %q", want))
		}
		return problems
	}
	if errText != "" && note != "" {
		return append(problems, "check cannot run: "+errText)
	}
	if note == "" || note == "load_failing_mod" || note == "set_ftrace_enabled --fail" {
		return problems
	}
	return append(problems, h.check(st, note, stdout)...)
}

var (
	reValue  = regexp.MustCompile(`^(check_sysfs_value|loop_until)\s+"([^"]*)"$`)
	reRights = regexp.MustCompile(`^check_sysfs_rights\s+(\S+)\s+"([^"]*)"$`)
	reProc   = regexp.MustCompile(`^cat\s+(\S+)\s+(==|!=)\s+"([^"]*)"$`)
	reGrep   = regexp.MustCompile(`^grep\s+'live patched'\s+(\S+)\s+>\s+/dev/kmsg$`)
	reCount  = regexp.MustCompile(`^nmods\s+([0-9]+)$`)
	reGone   = regexp.MustCompile(`^loop_until\s+!\s+-e\s+(\S+)$`)
	reTraced = regexp.MustCompile(`^grep\s+-Fwq\s+"([^"]+)"$`)
)

// check runs a harness check written as an annotation and returns its
// problems. The grep form writes what it finds to /dev/kmsg, as the
// harness does.
func (h *harness) check(st scenario.Stmt, note string, stdout []string) (problems []string) {
	sess := h.sess
	switch {
	case (st.Verb == "cat" || st.Verb == "sysctl") && reValue.MatchString(note):
		m := reValue.FindStringSubmatch(note)
		got := strings.Join(stdout, "\n")
		if got != m[2] {
			// check_sysfs_value: die "Unexpected value in $path: $expected_value vs. $value"
			problems = append(problems, fmt.Sprintf("%s: Unexpected value in %s: %s vs. %s", m[1], st.Args[0].Val, m[2], got))
		}
	case st.Verb == "ls" && reRights.MatchString(note):
		m := reRights.FindStringSubmatch(note)
		mode, ok := "", false
		for _, l := range stdout {
			f := strings.Fields(l)
			if len(f) >= 6 && f[len(f)-1] == m[1] {
				mode, ok = f[0], true
			}
		}
		dir := st.Args[len(st.Args)-1].Val
		if !ok {
			problems = append(problems, fmt.Sprintf("check_sysfs_rights: %s/%s does not exist", dir, m[1]))
		} else if mode != m[2] {
			problems = append(problems, fmt.Sprintf("check_sysfs_rights: Unexpected access rights of %s/%s: %s vs. %s", dir, m[1], m[2], mode))
		}
	case st.Verb == "ls" && reGone.MatchString(note):
		// disable_lp: loop_until [[ ! -e "$SYSFS_KLP_DIR/$mod" ]]
		m := reGone.FindStringSubmatch(note)
		for _, l := range stdout {
			if l == m[1] {
				problems = append(problems, fmt.Sprintf("%s/%s still exists: the harness would die (failed to disable livepatch %s)", st.Args[0].Val, m[1], m[1]))
			}
		}
	case st.Verb == "ls" && reCount.MatchString(note):
		// mods=($SYSFS_KLP_DIR/*); nmods=${#mods[@]}
		m := reCount.FindStringSubmatch(note)
		if got := fmt.Sprint(len(stdout)); got != m[1] {
			problems = append(problems, fmt.Sprintf("Expecting %s modules listed, found %s", m[1], got))
		}
	case st.Verb == "cat" && reProc.MatchString(note):
		m := reProc.FindStringSubmatch(note)
		got := strings.Join(stdout, "\n")
		if (got == m[3]) != (m[2] == "==") {
			problems = append(problems, fmt.Sprintf("FAIL: cat %s gives %q, want %s %q", m[1], got, m[2], m[3]))
		}
	case st.Verb == "cat" && reGrep.MatchString(note):
		got := strings.Join(stdout, "\n")
		if strings.Contains(got, "live patched") {
			if err := sess.Sim().WriteFile("/dev/kmsg", got+"\n"); err != nil {
				problems = append(problems, err.Error())
			}
		}
	case st.Verb == "cat" && reTraced.MatchString(note):
		// check_traced_functions: grep -Fwq "$function" trace || die
		fn := reTraced.FindStringSubmatch(note)[1]
		word := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(fn) + `($|[^A-Za-z0-9_])`)
		found := false
		for _, l := range stdout {
			found = found || (!strings.HasPrefix(l, "#") && word.MatchString(l))
		}
		if !found {
			problems = append(problems, fmt.Sprintf("Function (%s) did not appear in the trace", fn))
		}
	default:
		problems = append(problems, fmt.Sprintf("annotation %q does not apply to %q", note, st.Verb))
	}
	return problems
}

var (
	reTime   = regexp.MustCompile(`^\[[ 0-9.]*\] `)
	reCaller = regexp.MustCompile(`^\[[ ]*[CT][0-9]*\] `)
)

// checkResultFilter is check_result's pipeline:
//
//	grep -e 'livepatch:' -e 'test_klp' | grep -v '\(tainting\|taints\) kernel' |
//	sed 's/^\[[ 0-9.]*\] //' | sed 's/^\[[ ]*[CT][0-9]*\] //'
//
// (the last sed only in eras that have it; before v5.9 the taint filter
// is grep -v 'tainting').
func checkResultFilter(in []string, e era) []string {
	var out []string
	for _, l := range in {
		if !strings.Contains(l, "livepatch:") && !strings.Contains(l, "test_klp") {
			continue
		}
		if e.taint.MatchString(l) {
			continue
		}
		l = reTime.ReplaceAllString(l, "")
		if e.callerSed {
			l = reCaller.ReplaceAllString(l, "")
		}
		out = append(out, l)
	}
	return out
}

// loadKnown reads KNOWN.md: every "## <script>/<case>" heading names a
// case that is expected to fail, with the first "Reason:" line under it.
func loadKnown(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	known := map[string]string{}
	cur := ""
	for _, l := range strings.Split(string(data), "\n") {
		if id, ok := strings.CutPrefix(l, "## "); ok {
			cur = strings.TrimSpace(id)
			if strings.Count(cur, "/") != 1 || strings.ContainsAny(cur, " `") {
				return nil, fmt.Errorf("KNOWN.md: heading %q is not <script>/<case>", l)
			}
			known[cur] = "(no reason given)"
			continue
		}
		if r, ok := strings.CutPrefix(l, "Reason: "); ok && cur != "" && known[cur] == "(no reason given)" {
			known[cur] = strings.TrimSpace(r)
		}
	}
	return known, nil
}

// diff returns a unified-style diff of want (the selftest's expected text)
// and got (the rebuilt result), "" if they are equal.
func diff(want, got []string) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	if lcs[0][0] == n && n == m {
		return ""
	}
	var b strings.Builder
	b.WriteString("--- expected (selftest)\n+++ result (simulator)\n")
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString(" " + want[i] + "\n")
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			b.WriteString("+" + got[j] + "\n")
			j++
		default:
			b.WriteString("-" + want[i] + "\n")
			i++
		}
	}
	return b.String()
}
