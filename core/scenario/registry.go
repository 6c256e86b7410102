package scenario

import (
	"sort"
)

// Verb is one statement of the language, declared once: the parser checks
// its arity, the session runs it, completion asks it what may follow, and
// docs/scenario.md is generated from Usage and Doc (docs_test.go).
//
// Adding a verb means adding one entry to the table of its group (the
// file that implements that group: config.go, declare.go, shell.go,
// action.go, expect.go) with its run function beside it, and a test.
type Verb struct {
	Name  string
	Min   int    // fewest arguments the parser accepts
	Usage string // the statement's form, as docs/scenario.md shows it
	Doc   string // one Markdown sentence or two
	// Run executes the statement; out holds what the group prints first
	// (shell commands and actions echo "# line").
	Run func(s *Session, st Stmt, out []Out) ([]Out, error)
	// Parts, for a statement that can take long (thousands of tasks made,
	// hours of simulated time), starts it as a part that runs a bounded
	// amount at a time, so the page can run it between frames (loader.go).
	// Such a verb's Run is whole(Parts).
	Parts func(s *Session, st Stmt, out []Out) (part, error)
	// Complete lists what may stand at the word being typed, given the
	// arguments before it; nil offers functions and pids.
	Complete completion
	// NoDoc keeps a verb out of the generated tables (it is documented
	// in prose, or is a form of another verb).
	NoDoc bool
}

// group is a kind of statement: it decides what runs before a verb of the
// kind and where the documentation lists it.
type group int

const (
	groupConfig  group = iota // shapes the machine; only before it is built
	groupDeclare              // declarations (the machine)
	groupShell                // commands a shell would run
	groupAction               // what the box does by itself
	groupExpect               // expectations and goals
	groupExplore              // the explore region (explore.go)
)

// verbGroups lists every group's table, in documentation order.
func verbGroups() [][]Verb {
	return [][]Verb{configVerbs, declareVerbs, shellVerbs, actionVerbs, expectVerbs, exploreVerbs}
}

// verbInfo is a registry entry with its group.
type verbInfo struct {
	*Verb
	group group
}

// lookupVerb finds a statement's registry entry.
func lookupVerb(name string) (verbInfo, bool) {
	v, ok := verbIndex[name]
	return v, ok
}

// verbIndex is the registry by name, built once (the explore mode looks
// a verb up for every statement it applies).
var verbIndex = func() map[string]verbInfo {
	m := map[string]verbInfo{}
	for g, tab := range verbGroups() {
		for i := range tab {
			if _, dup := m[tab[i].Name]; !dup {
				m[tab[i].Name] = verbInfo{&tab[i], group(g)}
			}
		}
	}
	return m
}()

// Verbs returns the statement names, sorted (for completion).
func Verbs() []string {
	var out []string
	for _, tab := range verbGroups() {
		for _, v := range tab {
			out = append(out, v.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Declares reports whether a verb describes the machine (configuration or
// declaration) rather than acting on it, so a harness can tell a
// scenario's set-up from what it does.
func Declares(verb string) bool {
	v, ok := lookupVerb(verb)
	return ok && (v.group == groupConfig || v.group == groupDeclare)
}
