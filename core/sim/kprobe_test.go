package sim

import "testing"

// One IPMODIFY ftrace_ops per function: a kprobe with a post handler and a
// livepatch of the same function exclude each other, in either order.
func TestKprobeVersusLivepatch(t *testing.T) {
	for _, tc := range []struct {
		name       string
		post       string
		args       []string
		lpFirst    bool
		disarmed   bool
		lpErr, kpE Errno
	}{
		{name: "post handler first", post: "Y", lpErr: EBUSY},
		{name: "no post handler", post: "N"},
		{name: "post handler from the param", post: "param.has_post_handler", args: []string{"has_post_handler=true"}, lpErr: EBUSY},
		{name: "param off", post: "param.has_post_handler", args: []string{"has_post_handler=false"}},
		{name: "livepatch first", post: "Y", lpFirst: true, kpE: EBUSY},
		{name: "livepatch first, no post handler", post: "N", lpFirst: true},
		{name: "kprobes disarmed", post: "Y", disarmed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, "6.16")
			kp := ModuleSpec{Name: "kp", Kprobe: &KprobeSpec{Func: "cmdline_proc_show", Post: tc.post},
				Params: []Param{{Name: "has_post_handler", Default: "Y"}}}
			addMods(t, s, kp, lp("lp", obj("vmlinux", "lp", "cmdline_proc_show")))
			if tc.disarmed {
				must(t, s.WriteFile("/sys/kernel/debug/kprobes/enabled", "0\n"))
			}
			loadKp := func() error { return s.InsmodParams("kp", tc.args) }
			if tc.lpFirst {
				must(t, s.Insmod("lp"))
				wantErrno(t, "kprobe module", loadKp(), tc.kpE)
				return
			}
			must(t, loadKp())
			err := s.Insmod("lp")
			wantErrno(t, "livepatch", err, tc.lpErr)
			if tc.lpErr != 0 {
				// Once the kprobe is gone, the patch applies.
				must(t, s.Rmmod("kp"))
				must(t, s.Insmod("lp"))
			}
		})
	}
}
