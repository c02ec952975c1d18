//go:build !amd64 || purego

package nn

// haveAVX2 is false: every kernel is plain Go here.
var haveAVX2 = false

// haveAVX512 is false too.
var haveAVX512 = false

func geluForwardAVX2(x, y, e *float32, blocks int)       { panic("nn: no AVX2 kernels") }
func geluForwardAVX512(x, y, e *float32, blocks int)     { panic("nn: no AVX-512 kernels") }
func geluBackwardAVX2(x, e, dy, dx *float32, blocks int) { panic("nn: no AVX2 kernels") }
func tanhAVX2(x, y *float32, blocks int)                 { panic("nn: no AVX2 kernels") }

func adamaxwAVX2(x, grad, m, u *float32, blocks int, b1, c1, b2, eps, lr, wd, bc float32) {
	panic("nn: no AVX2 kernels")
}

func adamAVX2(x, grad, m, v *float32, blocks int, b1, c1, b2, c2, eps, lr, bc1, bc2 float32) {
	panic("nn: no AVX2 kernels")
}

func rowDotsAVX2(a, b, out *float32, rows, cols int)             { panic("nn: no AVX2 kernels") }
func rowAxpyAVX2(alpha, x, y *float32, rows, cols int)           { panic("nn: no AVX2 kernels") }
func scatterAddAVX2(src, dst *float32, idx *int, rows, cols int) { panic("nn: no AVX2 kernels") }

func dotsStridedAVX2(a, b, out *float32, rows, cols, astep, bstep int) {
	panic("nn: no AVX2 kernels")
}

func axpysStridedAVX2(alpha, x, y *float32, rows, cols, xstep, ystep int) {
	panic("nn: no AVX2 kernels")
}
