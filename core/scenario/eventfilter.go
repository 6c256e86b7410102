package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klp-playground/klp/core/sim"
)

// eventFilterKeys are the typed fields `expect event` and `until` match.
const eventFilterKeys = "pid=, cpu=, reason=, to=, patch=, wait="

// eventFilter reads KIND ["TEXT"] [pid=N] [cpu=N] [reason=R] [to=S]
// [patch=P] [wait=begin|end]; other key=value options are left to the
// caller (other reports whether it takes one, and reads it).
func (s *Session) eventFilter(verb string, args []Arg, other func(Arg) (bool, error)) (sim.EventFilter, error) {
	kind, err := s.eventKind(args[0])
	if err != nil {
		return sim.EventFilter{}, err
	}
	f := sim.EventFilter{Kind: kind}
	text := false
	num := func(a Arg, lo, hi int) (*int, error) {
		n, err := strconv.Atoi(a.Val)
		if err != nil || n < lo || n > hi {
			return nil, s.errf(a.Pos, "%s: %s= takes a number from %d to %d, got %q", verb, a.Key, lo, hi, a.Val)
		}
		return &n, nil
	}
	for _, a := range args[1:] {
		switch a.Key {
		case "":
			if text {
				return f, s.errf(a.Pos, "%s takes one text to look for; quote it if it has spaces", verb)
			}
			f.Text, text = a.Val, true
		case "pid":
			if f.PID, err = num(a, 0, 1<<22); err != nil {
				return f, err
			}
		case "cpu":
			if f.CPU, err = num(a, 0, 4095); err != nil {
				return f, err
			}
		case "to":
			if f.To, err = num(a, -1, 1); err != nil {
				return f, err
			}
		case "reason":
			r := sim.SwitchReason(strings.ReplaceAll(a.Val, "-", " "))
			var names []string
			for _, x := range sim.SwitchReasons() {
				names = append(names, strings.ReplaceAll(string(x), " ", "-"))
				if x == r {
					f.Reason = r
				}
			}
			if f.Reason == "" {
				msg := fmt.Sprintf("unknown switch reason %q (want one of %s)", a.Val, strings.Join(names, ", "))
				if n := nearest(strings.ReplaceAll(a.Val, " ", "-"), names); n != "" {
					msg = fmt.Sprintf("unknown switch reason %q (did you mean %q?)", a.Val, n)
				}
				return f, s.errf(a.Pos, "%s: %s", verb, msg)
			}
		case "patch":
			f.Patch = a.Val
		case "wait":
			if a.Val != "begin" && a.Val != "end" {
				return f, s.errf(a.Pos, "%s: wait= takes begin or end, got %q", verb, a.Val)
			}
			f.Wait = a.Val
		default:
			if other != nil {
				if ok, err := other(a); ok || err != nil {
					if err != nil {
						return f, err
					}
					continue
				}
			}
			return f, s.errf(a.Pos, "%s: unknown option %s= (want %s)", verb, a.Key, eventFilterKeys)
		}
	}
	return f, nil
}

// describe says what the filter looks for, as notes and reasons quote it.
func describeFilter(args []Arg) string {
	var b strings.Builder
	for i, a := range args {
		if a.Key == "within" {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case a.Key != "":
			b.WriteString(a.Key + "=" + a.Val)
		case i > 0:
			b.WriteString(strconv.Quote(a.Val))
		default:
			b.WriteString(a.Val)
		}
	}
	return b.String()
}
