package sim

import "testing"

// maxFuzzOps bounds one input: every action costs at most a few thousand
// retries of simulated time, so an input runs in milliseconds.
const maxFuzzOps = 160

// FuzzEvents decodes the input into actions on the property-test world:
// byte 0 picks the kernel profile, byte 1 whether force writes are in the
// action set, then 3 bytes per action (see world.apply). After every action
// the invariants hold; at the end, once every task can reach a switch
// point, every transition completes; and the same input gives the same
// log and events again.
func FuzzEvents(f *testing.F) {
	f.Add([]byte{6, 0})
	f.Add(append([]byte{6, 1}, randomOps(1, 60)...))
	f.Add(append([]byte{0, 0}, randomOps(2, 60)...))
	f.Add(append([]byte{2, 1}, randomOps(3, 60)...))
	f.Add(append([]byte{8, 0}, randomOps(4, 80)...)) // cond-resched-v1
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		prof := propProfiles[int(data[0])%len(propProfiles)]
		force := data[1]&1 != 0
		ops := data[2:]
		if len(ops) > 3*maxFuzzOps {
			ops = ops[:3*maxFuzzOps]
		}
		a := runOps(t, prof, force, ops)
		b := runOps(t, prof, force, ops)
		if a != b {
			t.Fatal("the same input gave a different log or event stream")
		}
	})
}
