package scenario

import (
	"fmt"
	"strings"
)

// The explore region marks statements whose order (any-order) or choice
// (either … or) is left open; core/explore runs every way through it.
// Played as an ordinary scenario (the console, a share link, klp run) it
// takes the written way: any-order in the written order, either's first
// branch.
//
//	explore [steps=N] [seconds=S] [states=N] [memory=MB] [tick=N] [reduce=on|off]
//	  STATEMENT
//	  any-order        # its items run in every order, interleaved
//	    ITEM …
//	  end
//	  in-order         # its items run in this order (one item of an any-order)
//	    ITEM …
//	  end
//	  either           # exactly one branch runs
//	    ITEM …
//	  or
//	    ITEM …
//	  end
//	end
var exploreVerbs = []Verb{
	{Name: "explore", Usage: "explore [steps=12] [seconds=30] [states=1000000] [memory=256] [tick=N] [reduce=on|off]` … `end",
		Doc: "a region whose every interleaving `klp explore` and the page's Explore button run and check (see below); played as a scenario it takes the written order and each `either`'s first branch",
	},
}

// The region runs statements through the registry, so its Run is set
// once here to break the initialisation cycle (the table is not changed
// after).
func init() { exploreVerbs[0].Run = (*Session).explore }

// ExploreOptions are the explore statement's options, with their defaults.
var ExploreOptions = map[string]string{"steps": "12", "seconds": "30", "states": "1000000", "memory": "256", "tick": "0", "reduce": "on"}

// regionWords are the lines that shape a region rather than act.
var regionWords = []string{"any-order", "in-order", "either", "or", "end"}

// exploreBlock reads an explore region up to its end.
func (p *parser) exploreBlock(st Stmt) (Stmt, bool) {
	for _, a := range st.Args {
		if _, ok := ExploreOptions[a.Key]; !ok {
			known := []string{"steps", "seconds", "states", "memory", "tick", "reduce"}
			msg := fmt.Sprintf("unknown explore option %q", a.String())
			if n := nearest(a.Key, known); n != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", n)
			} else {
				msg += " (known: " + strings.Join(known, ", ") + ")"
			}
			p.errf(a.Pos, "%s", msg)
			return Stmt{}, false
		}
	}
	body, term, ok := p.regionItems(st, false)
	if !ok {
		return Stmt{}, false
	}
	if term != "end" {
		p.errf(st.Pos, "'or' outside an either block")
		return Stmt{}, false
	}
	st.Body = body
	return st, true
}

// regionItems reads region items up to "end" (or "or" when inOr), and
// says which ended them.
func (p *parser) regionItems(open Stmt, inOr bool) ([]Stmt, string, bool) {
	var items []Stmt
	ok := true
	for p.i < len(p.lines) {
		args, err := lex(p.lines[p.i], Pos{p.file, p.i + 1, 1})
		if err != nil || len(args) == 0 || args[0].Quoted || args[0].Key != "" {
			st, got := p.stmt(0) // reports the error, or skips a blank line
			if got {
				items = append(items, st)
			}
			continue
		}
		w := args[0]
		switch w.Val {
		case "end", "or":
			p.i++
			if len(args) > 1 {
				p.errf(args[1].Pos, "nothing may follow '%s'", w.Val)
				ok = false
			}
			if w.Val == "or" && !inOr {
				p.errf(w.Pos, "'or' outside an either block")
				ok = false
				continue
			}
			return items, w.Val, ok
		case "any-order", "in-order":
			p.i++
			st := Stmt{Pos: w.Pos, Verb: w.Val}
			body, term, good := p.regionItems(st, false)
			if !good {
				return nil, "", false
			}
			if term != "end" {
				return nil, "", false
			}
			if len(body) == 0 {
				p.errf(w.Pos, "empty %s block", w.Val)
				ok = false
			}
			st.Body = body
			items = append(items, st)
		case "either":
			p.i++
			st := Stmt{Pos: w.Pos, Verb: "either"}
			branch := Stmt{Pos: w.Pos, Verb: "or"}
			for {
				body, term, good := p.regionItems(st, true)
				if !good {
					return nil, "", false
				}
				if len(body) == 0 {
					p.errf(branch.Pos, "empty branch of either")
					ok = false
				}
				branch.Body = body
				st.Body = append(st.Body, branch)
				if term == "end" {
					break
				}
				branch = Stmt{Pos: Pos{p.file, p.i, 1}, Verb: "or"}
			}
			if len(st.Body) < 2 {
				p.errf(st.Pos, "either needs at least two branches (… or … end)")
				ok = false
			}
			items = append(items, st)
		default:
			st, got := p.stmt(0)
			if !got {
				ok = false
				continue
			}
			if v, _ := lookupVerb(st.Verb); v.group != groupShell && v.group != groupAction && v.group != groupExpect {
				p.errf(st.Pos, "%s cannot stand in an explore region (only commands, actions, expect and goal)", st.Verb)
				ok = false
				continue
			}
			items = append(items, st)
		}
	}
	p.errf(open.Pos, "%s is not closed with 'end'", open.Verb)
	return nil, "", false
}

// printRegion prints region items, indented.
func printRegion(b *strings.Builder, items []Stmt, ind string) {
	for _, it := range items {
		switch it.Verb {
		case "any-order", "in-order":
			b.WriteString("\n" + ind + it.Verb)
			printRegion(b, it.Body, ind+"  ")
			b.WriteString("\n" + ind + "end")
		case "either":
			b.WriteString("\n" + ind + "either")
			for i, br := range it.Body {
				if i > 0 {
					b.WriteString("\n" + ind + "or")
				}
				printRegion(b, br.Body, ind+"  ")
			}
			b.WriteString("\n" + ind + "end")
		default:
			for _, l := range strings.Split(it.String(), "\n") {
				b.WriteString("\n" + ind + l)
			}
		}
	}
}

// explore plays the region the written way.
func (s *Session) explore(st Stmt, out []Out) ([]Out, error) {
	var walk func(items []Stmt) error
	walk = func(items []Stmt) error {
		for _, it := range items {
			switch it.Verb {
			case "any-order", "in-order":
				if err := walk(it.Body); err != nil {
					return err
				}
			case "either":
				if err := walk(it.Body[0].Body); err != nil {
					return err
				}
			default:
				o, err := s.ApplyInRegion(it)
				out = append(out, o...)
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(st.Body)
}

// SetQuiet turns off, from now on, the output of statements and the
// machine's records (sim.SetQuiet): the explore mode searches quietly when
// nothing in its region reads them. What the statements do is the same.
func (s *Session) SetQuiet(on bool) {
	s.quiet = on
	if s.sim != nil {
		s.sim.SetQuiet(on)
	}
}

// ApplyInRegion runs one statement of an explore region: charged to the
// budget like any other, but not added to Source on its own (the region
// is, as a whole).
func (s *Session) ApplyInRegion(st Stmt) ([]Out, error) {
	used, err := s.charge(st)
	if err != nil {
		return nil, err
	}
	out, err := s.apply(st)
	if !s.quiet {
		out = s.drain(out)
	}
	if err == nil {
		s.used = used
	}
	return out, err
}
