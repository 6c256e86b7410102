package scenario

import "testing"

// A region prints back to the text it was parsed from, and played as an
// ordinary scenario it takes the written order and the first branch.
func TestExploreRegionPlaysWrittenWay(t *testing.T) {
	src := `vmlinux f g
task 1 a
task 2 b
explore steps=6 seconds=2
  any-order
    call 1 f
    in-order
      call 2 g
      ret 2
    end
  end
  either
    ret 1
  or
    call 1 g
  end
  expect stack 1 lacks f
end
`
	sc, err := Parse("t", src)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.String(); got != src {
		t.Errorf("printed:\n%s\nwant:\n%s", got, src)
	}
	s, out, err := NewSession("t", src)
	if err != nil {
		t.Fatal(err)
	}
	if s.Failures() != 0 {
		t.Errorf("written way failed: %v", out)
	}
	if s.Source() != src {
		t.Errorf("source:\n%s", s.Source())
	}
}
