package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// GoalResult is one goal's verdict with its reason.
type GoalResult struct {
	Goal   string
	OK     bool
	Reason string
}

// Goals re-checks every goal statement against the state now.
func (s *Session) Goals() []GoalResult {
	var out []GoalResult
	for _, g := range s.goals {
		ok, why := s.check(g)
		out = append(out, GoalResult{Goal: strings.TrimPrefix(g.String(), "goal "), OK: ok, Reason: why})
	}
	return out
}

// expectVerbs check the machine: expect fails the run when false, goal
// is the same check kept for the lesson's goal list.
var expectVerbs = []Verb{
	{Name: "expect", Min: 1, Usage: "expect FORM …", Run: (*Session).expect, Complete: completeExpect, NoDoc: true},
	{Name: "goal", Min: 1, Usage: "goal FORM …", Run: (*Session).expect, Complete: completeExpect, NoDoc: true},
}

// expectForm is one form of expect and goal, declared once like a verb.
type expectForm struct {
	Name  string
	Min   int    // fewest arguments after the form's name
	Usage string // as docs/scenario.md shows it ("" when another row shows it)
	Doc   string
	// Complete lists what may follow the form's name (nil: functions
	// and pids).
	Complete completion
}

var expectForms = []expectForm{
	{Name: "log", Min: 1, Usage: `expect log "TEXT"` + "` / `" + `expect no-log "TEXT"`,
		Doc: "a kernel log line (without timestamp) equals TEXT, since the last `dmesg -C`"},
	{Name: "no-log", Min: 1},
	{Name: "log-contains", Min: 1, Usage: `expect log-contains "TEXT"`, Doc: "some line contains TEXT"},
	{Name: "file", Min: 2, Usage: `expect file PATH "VALUE"` + "` / `" + `expect file PATH mode=0200`, Doc: "the file reads VALUE (trailing newline ignored); or has that mode (octal permission bits, as `stat -c %a` prints them; sysfs attributes' modes differ by version)"},
	{Name: "task", Min: 1, Usage: "expect task PID [patch_state=N] [pending=0|1] [state=S] [switched]", Doc: "the task matches",
		Complete: args(keyed(nil, map[string][]string{"patch_state": {"-1", "0", "1"}, "pending": {"0", "1"}, "state": stateNames()},
			"patch_state=", "pending=", "state=", "switched"), cPIDs)},
	{Name: "transition", Min: 1, Usage: "expect transition none` / `expect transition PATCH [patching|unpatching]"},
	{Name: "alarm", Usage: "expect alarm` / `expect no-alarm` / `expect warning` / `expect no-warning", Doc: "consistency-checker alarms, WARN_ON_ONCE"},
	{Name: "no-alarm"},
	{Name: "warning"},
	{Name: "no-warning"},
	{Name: "dmesg", Usage: "expect dmesg` … `end", Doc: "the lines in the block appear in this order (each one equal to a log line without timestamp)"},
	{Name: "error", Min: 1, Usage: "expect error ERRNO", Doc: "the previous command failed with that errno"},
	{Name: "stack", Min: 3, Usage: "expect stack PID has|lacks FUNC", Doc: "some frame of the task runs FUNC (the code's own name, e.g. `livepatch_cmdline_proc_show`)"},
	{Name: "event", Min: 1, Usage: `expect event KIND ["TEXT"] [pid=N] [cpu=N] [reason=R] [to=S] [patch=P] [wait=begin|end]` + "` / `expect no-event …", Complete: args(nil, cEvents),
		Doc: "an event of that kind (" + eventKindsDoc() + ") whose text contains TEXT and whose typed fields match happened: `pid=` its task (or one of a sweep's), `cpu=` its CPU (an idle task is `pid=0 cpu=N`), `reason=` a switch's (" + reasonsDoc() + "; `-` for a space), `to=` a switch's new patch_state, `patch=` its patch, `wait=` which end of a wait"},
	{Name: "no-event", Min: 1, Complete: args(nil, cEvents)},
	{Name: "hazard", Usage: "expect hazard` / `expect no-hazard", Doc: "the RFC what-if found a handler running where RCU is not watching"},
	{Name: "no-hazard"},
}

// eventKindsDoc lists sim's event kinds as the docs show them, so a new
// kind is documented where it is declared.
func eventKindsDoc() string {
	var b strings.Builder
	for i, k := range sim.EventKinds() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`" + string(k) + "`")
	}
	return b.String()
}

// reasonsDoc lists the switch reasons as `reason=` takes them.
func reasonsDoc() string {
	var out []string
	for _, r := range sim.SwitchReasons() {
		out = append(out, "`"+strings.ReplaceAll(string(r), " ", "-")+"`")
	}
	return strings.Join(out, ", ")
}

// ExpectForms lists the forms of expect and goal (for completion).
func ExpectForms() []string {
	out := make([]string, len(expectForms))
	for i, f := range expectForms {
		out[i] = f.Name
	}
	return out
}

func (s *Session) expect(st Stmt, out []Out) ([]Out, error) {
	if err := s.validateExpect(st); err != nil {
		return nil, err
	}
	if st.Verb == "goal" {
		s.goals = append(s.goals, st)
		return nil, nil
	}
	ok, why := s.check(st)
	if ok {
		return []Out{{Kind: "pass", Text: fmt.Sprintf("%s: ok: %s", st.Pos, why)}}, nil
	}
	s.failures++
	return []Out{{Kind: "fail", Text: fmt.Sprintf("%s: FAIL: %s", st.Pos, why)}}, nil
}

func (s *Session) validateExpect(st Stmt) error {
	form := st.Args[0].Val
	for _, f := range expectForms {
		if f.Name == form {
			if need := f.Min + 1; len(st.Args) < need {
				return s.errf(st.Pos, "%s %s needs %d argument(s); see docs/scenario.md", st.Verb, form, need-1)
			}
			if form == "event" || form == "no-event" {
				// a misspelt kind or field would never match, silently
				_, err := s.eventFilter(st.Verb+" "+form, st.Args[1:], nil)
				return err
			}
			return nil
		}
	}
	msg := fmt.Sprintf("unknown %s form %q", st.Verb, form)
	if n := nearest(form, ExpectForms()); n != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", n)
	}
	return s.errf(st.Args[0].Pos, "%s", msg)
}

// check evaluates an expectation: whether it holds and why (or what is
// still missing).
func (s *Session) check(st Stmt) (bool, string) {
	m := s.sim
	a := st.Args
	log := s.logSince(s.mark)
	switch a[0].Val {
	case "log", "no-log", "log-contains":
		want := a[1].Val
		for _, l := range log {
			if l.Text == want || (a[0].Val == "log-contains" && strings.Contains(l.Text, want)) {
				if a[0].Val == "no-log" {
					return false, fmt.Sprintf("the log has %q", want)
				}
				return true, fmt.Sprintf("the log has %q", want)
			}
		}
		if a[0].Val == "no-log" {
			return true, fmt.Sprintf("the log has no %q", want)
		}
		return false, fmt.Sprintf("no log line %q yet", want)
	case "dmesg":
		i := 0
		for _, l := range log {
			if i < len(st.Text) && l.Text == st.Text[i] {
				i++
			}
		}
		if i == len(st.Text) {
			return true, fmt.Sprintf("all %d lines appear in order", len(st.Text))
		}
		return false, fmt.Sprintf("line %d of %d missing (in order): %q", i+1, len(st.Text), st.Text[i])
	case "file":
		if a[2].Key == "mode" {
			return fileMode(m, a[1].Val, a[2].Val)
		}
		got, err := m.ReadFile(a[1].Val)
		if err != nil {
			return false, fmt.Sprintf("%s: %v", a[1].Val, sim.ErrnoOf(err).Error())
		}
		got = strings.TrimSuffix(got, "\n")
		if got == a[2].Val {
			return true, fmt.Sprintf("%s reads %q", a[1].Val, got)
		}
		return false, fmt.Sprintf("%s reads %q, want %q", a[1].Val, got, a[2].Val)
	case "transition":
		name, target := m.InTransition()
		want := a[1].Val
		if want == "none" {
			if name == "" {
				return true, "no transition in progress"
			}
			// say who holds it, so a learner knows where to look
			msg := fmt.Sprintf("%s is still %s", name, dir(target))
			if who, n := m.Blockers(3); n > 0 {
				msg += ": " + strings.Join(who, "; ")
				if n > len(who) {
					msg += fmt.Sprintf(" (and %d more)", n-len(who))
				}
			}
			return false, msg
		}
		if name != modName(want) {
			if name == "" {
				return false, fmt.Sprintf("no transition in progress, want %s", want)
			}
			return false, fmt.Sprintf("%s is in transition, not %s", name, want)
		}
		if len(a) > 2 && a[2].Val != dir(target) {
			return false, fmt.Sprintf("%s is %s, not %s", name, dir(target), a[2].Val)
		}
		return true, fmt.Sprintf("%s is %s", name, dir(target))
	case "alarm", "no-alarm":
		n := m.Alarms()
		if (n > 0) == (a[0].Val == "alarm") {
			return true, fmt.Sprintf("%d consistency alarm(s)", n)
		}
		return false, fmt.Sprintf("%d consistency alarm(s)", n)
	case "warning", "no-warning":
		n := m.Warnings()
		if (n > 0) == (a[0].Val == "warning") {
			return true, fmt.Sprintf("%d WARNING(s)", n)
		}
		return false, fmt.Sprintf("%d WARNING(s)", n)
	case "error":
		want, ok := sim.ParseErrno(a[1].Val)
		if !ok {
			return false, fmt.Sprintf("unknown errno %q", a[1].Val)
		}
		if s.lastErr == want {
			return true, fmt.Sprintf("the previous command failed with %s", want.Name())
		}
		if s.lastErr == 0 {
			return false, fmt.Sprintf("the previous command succeeded, want %s", want.Name())
		}
		return false, fmt.Sprintf("the previous command failed with %s, want %s", s.lastErr.Name(), want.Name())
	case "task":
		return s.checkTask(a)
	case "stack":
		return s.checkStack(a)
	case "event", "no-event":
		return s.checkEvent(a)
	case "hazard", "no-hazard":
		n := m.View().Hazards
		if (n > 0) == (a[0].Val == "hazard") {
			return true, fmt.Sprintf("%d RFC hazard(s)", n)
		}
		return false, fmt.Sprintf("%d RFC hazard(s)", n)
	}
	return false, "unknown expectation"
}

func dir(target int) string {
	if target == sim.Patched {
		return "patching"
	}
	return "unpatching"
}

// checkedTask finds the task an expectation names; why says what is
// wrong when it cannot.
func (s *Session) checkedTask(a Arg) (t sim.Task, pid int, why string) {
	pid, err := strconv.Atoi(a.Val)
	if err != nil {
		return t, 0, fmt.Sprintf("bad pid %q", a.Val)
	}
	t, ok := s.sim.Task(pid)
	if !ok {
		return t, pid, fmt.Sprintf("no task %d", pid)
	}
	return t, pid, ""
}

func (s *Session) checkTask(a []Arg) (bool, string) {
	m := s.sim
	t, pid, bad := s.checkedTask(a[1])
	if bad != "" {
		return false, bad
	}
	who := fmt.Sprintf("task %d (%s)", pid, t.Comm)
	why := func() string {
		if t.Blocked != "" {
			return "; it " + t.Blocked
		}
		if len(t.Stack) > 0 {
			return "; its stack ends in " + m.Code(t.Stack[len(t.Stack)-1].Code).Name
		}
		return ""
	}
	var good []string
	for _, x := range a[2:] {
		switch x.Key {
		case "patch_state":
			want, err := strconv.Atoi(x.Val)
			if err != nil {
				return false, fmt.Sprintf("patch_state takes -1, 0 or 1, got %q", x.Val)
			}
			if t.PatchState != want {
				return false, fmt.Sprintf("%s has patch_state %d, want %d%s", who, t.PatchState, want, why())
			}
			good = append(good, fmt.Sprintf("patch_state %d", want))
		case "pending":
			want := x.Val == "1"
			if t.PatchPending != want {
				return false, fmt.Sprintf("%s pending=%d, want %s%s", who, b2i(t.PatchPending), x.Val, why())
			}
			good = append(good, "pending="+x.Val)
		case "state":
			ws, ok := taskStates[x.Val]
			if !ok {
				return false, fmt.Sprintf("unknown state %q", x.Val)
			}
			if t.State != ws && !(ws == sim.Running && t.State == sim.Running) {
				return false, fmt.Sprintf("%s is %s, want %s", who, t.State, x.Val)
			}
			good = append(good, "state "+x.Val)
		default:
			if x.Key == "" && x.Val == "switched" {
				name, target := m.InTransition()
				if name == "" {
					return true, who + ": no transition in progress"
				}
				if t.PatchState != target {
					return false, fmt.Sprintf("%s has not switched to %s yet%s", who, m.Profile().StateName(target), why())
				}
				good = append(good, "switched")
				continue
			}
			return false, fmt.Sprintf("unknown task check %q", x.String())
		}
	}
	return true, who + ": " + strings.Join(good, ", ")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkStack: "stack PID has|lacks FUNC" looks at the code each frame
// runs (a replacement function's own name, e.g. livepatch_cmdline_proc_show).
func (s *Session) checkStack(a []Arg) (bool, string) {
	m := s.sim
	t, pid, bad := s.checkedTask(a[1])
	if bad != "" {
		return false, bad
	}
	mode, fn := a[2].Val, a[3].Val
	if mode != "has" && mode != "lacks" {
		return false, fmt.Sprintf("stack PID has|lacks FUNC, got %q", mode)
	}
	found := false
	var names []string
	for i := len(t.Stack) - 1; i >= 0; i-- {
		n := m.Code(t.Stack[i].Code).Name
		names = append(names, n)
		found = found || n == fn
	}
	who := fmt.Sprintf("task %d (%s)", pid, t.Comm)
	have := "empty"
	if len(names) > 0 {
		have = strings.Join(names, " < ")
	}
	if found == (mode == "has") {
		return true, fmt.Sprintf("%s stack %s %s", who, map[bool]string{true: "has", false: "lacks"}[found], fn)
	}
	return false, fmt.Sprintf("%s stack %s %s (stack: %s)", who, map[bool]string{true: "still has", false: "does not have"}[found], fn, have)
}

// checkEvent: "event KIND [\"TEXT\"]" holds when some event of that kind
// (whose text contains TEXT) happened; no-event is the opposite.
func (s *Session) checkEvent(a []Arg) (bool, string) {
	f, err := s.eventFilter("expect "+a[0].Val, a[1:], nil)
	if err != nil {
		return false, err.Error() // (validated when the statement ran)
	}
	var hit string
	for _, e := range s.sim.Events() {
		if f.Match(e) {
			hit = e.Text
			break
		}
	}
	want := a[0].Val == "event"
	what := describeFilter(a[1:])
	switch {
	case hit != "" && want:
		return true, "event: " + hit
	case hit != "":
		return false, "there was an event " + hit
	case want:
		return false, "no " + what + " event yet"
	}
	return true, "no " + what + " event"
}
