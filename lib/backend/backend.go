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
// the cores. OpenBLAS starts its worker threads when the library loads,
// before any Go code runs, as many as OPENBLAS_NUM_THREADS says (else one
// per core); left idle, they still poll for work and took about 10 % of
// the CPU time of a Pitot training step on a 2-core machine (steps 4-8 %
// slower). The Makefile therefore exports OPENBLAS_NUM_THREADS=1 unless it
// is set; a program run some other way can set it the same way.
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
