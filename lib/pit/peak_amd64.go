//go:build !purego

package pit

import "golang.org/x/sys/cpu"

// fmaVector says which FMA loop runs here and its lanes per register.
func fmaVector() (string, int) {
	switch {
	case cpu.X86.HasAVX512F:
		return "avx512", 16
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return "avx2", 8
	}
	return "", 0
}

// fmaLoop runs iters iterations of 12 independent vector FMAs in the
// widest registers fmaVector names.
func fmaLoop(iters int) {
	if cpu.X86.HasAVX512F {
		fmaZ(iters)
	} else {
		fmaY(iters)
	}
}

// fmaZ runs 12 independent VFMADD231PS on ZMM registers per iteration.
//
//go:noescape
func fmaZ(iters int)

// fmaY runs 12 independent VFMADD231PS on YMM registers per iteration.
//
//go:noescape
func fmaY(iters int)
