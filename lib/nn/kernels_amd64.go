//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// haveAVX2 says whether the AVX2 kernels of kernels_amd64.s run here.
// Tests switch it off to compare them with the Go loops.
var haveAVX2 = cpu.X86.HasAVX2

// haveAVX512 says whether geluForwardAVX512 runs here (with haveAVX2).
var haveAVX512 = cpu.X86.HasAVX512F

// geluForwardAVX512 runs geluForwardGo on 32·blocks elements; e may be nil.
//
//go:noescape
func geluForwardAVX512(x, y, e *float32, blocks int)

// geluForwardAVX2 runs geluForwardGo on 8·blocks elements; e may be nil.
//
//go:noescape
func geluForwardAVX2(x, y, e *float32, blocks int)

// geluBackwardAVX2 runs geluBackwardGo on 8·blocks elements, recomputing
// e when it is nil.
//
//go:noescape
func geluBackwardAVX2(x, e, dy, dx *float32, blocks int)

// tanhAVX2 computes y = tanh32(x) on 8·blocks elements.
//
//go:noescape
func tanhAVX2(x, y *float32, blocks int)

// adamaxwAVX2 runs adamaxwGo on 8·blocks elements.
//
//go:noescape
func adamaxwAVX2(x, grad, m, u *float32, blocks int, b1, c1, b2, eps, lr, wd, bc float32)

// adamAVX2 runs adamGo on 8·blocks elements.
//
//go:noescape
func adamAVX2(x, grad, m, v *float32, blocks int, b1, c1, b2, c2, eps, lr, bc1, bc2 float32)

// rowDotsAVX2 computes out[i] = dot(a.Row(i), b.Row(i)) for rows rows of
// cols columns, cols a positive multiple of 8.
//
//go:noescape
func rowDotsAVX2(a, b, out *float32, rows, cols int)

// rowAxpyAVX2 adds alpha[i]·x.Row(i) into y.Row(i), cols a positive
// multiple of 8.
//
//go:noescape
func rowAxpyAVX2(alpha, x, y *float32, rows, cols int)

// scatterAddAVX2 adds src.Row(i) into dst.Row(idx[i]), cols a positive
// multiple of 8, indices already checked.
//
//go:noescape
func scatterAddAVX2(src, dst *float32, idx *int, rows, cols int)

// dotsStridedAVX2 computes out[i] = dot(a[i·astep:][:cols],
// b[i·bstep:][:cols]) for rows rows, cols a positive multiple of 8.
//
//go:noescape
func dotsStridedAVX2(a, b, out *float32, rows, cols, astep, bstep int)

// axpysStridedAVX2 adds alpha[i]·x[i·xstep:][:cols] into y[i·ystep:][:cols]
// for i = 0..rows-1 in order, cols a positive multiple of 8.
//
//go:noescape
func axpysStridedAVX2(alpha, x, y *float32, rows, cols, xstep, ystep int)
