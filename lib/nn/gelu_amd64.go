//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// haveAVX2 says whether the AVX2 GELU kernels of gelu_amd64.s run here.
var haveAVX2 = cpu.X86.HasAVX2

// geluForwardAVX2 runs geluForward32 on 8·blocks elements; e may be nil.
//
//go:noescape
func geluForwardAVX2(x, y, e *float32, blocks int)

// geluBackwardAVX2 runs geluBackward32 (recomputing e when it is nil) on
// 8·blocks elements.
//
//go:noescape
func geluBackwardAVX2(x, e, dy, dx *float32, blocks int)
