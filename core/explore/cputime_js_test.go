//go:build js

package explore

// cpuSeconds: WebAssembly has no process times (the benchmark then
// reports wall time only).
func cpuSeconds() float64 { return 0 }
