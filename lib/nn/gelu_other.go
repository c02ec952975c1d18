//go:build !amd64 || purego

package nn

// haveAVX2 is false: the GELU kernels are plain Go here.
var haveAVX2 = false

func geluForwardAVX2(x, y, e *float32, blocks int) { panic("nn: no AVX2 kernels") }

func geluBackwardAVX2(x, e, dy, dx *float32, blocks int) { panic("nn: no AVX2 kernels") }
