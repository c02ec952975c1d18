// Package backend selects and reports the BLAS implementation behind
// gonum's blas32/blas64 functions, which the training engine (lib/nn) calls
// for every matrix product.
//
// Built with the openblas tag (the Makefile adds it when OpenBLAS is
// installed), importing this package installs OpenBLAS through cgo
// (gonum.org/v1/netlib); otherwise gonum's pure-Go BLAS is used. OpenBLAS
// is about 5x faster on the GEMMs of a Pitot training step.
//
// The engine runs one replicate per worker goroutine, so OpenBLAS is
// limited to one thread (SetThreads) to keep workers from oversubscribing
// the cores.
//
// With OpenBLAS, every float32 product (blas32.Gemm) runs with
// flush-to-zero and denormals-are-zero set on the calling thread (MXCSR's
// FTZ and DAZ bits on x86, FPCR.FZ on arm64) and restored before it
// returns, so subnormal operands and results, which cost a microcode
// assist per instruction on many x86 cores, never slow a product down
// (Flushes reports it; see lib/nn's package doc, Subnormals). The mode is
// per thread: a single-threaded OpenBLAS computes on the calling thread and
// is covered; with SetThreads(n > 1) OpenBLAS's own worker threads keep
// the default IEEE mode. float64 products (gradient checks) are unchanged.
package backend

// Name says which BLAS is in use: "openblas" or "gonum (pure Go)".
func Name() string { return name }
