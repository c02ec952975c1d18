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
package backend

// Name says which BLAS is in use: "openblas" or "gonum (pure Go)".
func Name() string { return name }
