//go:build !openblas || !cgo

package backend

const name = "gonum (pure Go)"

// SetThreads does nothing for gonum's BLAS, which picks its own
// parallelism (goroutines for large products).
func SetThreads(n int) {}

// Core returns "" for gonum's BLAS.
func Core() string { return "" }

// Flushes reports false: gonum's BLAS runs in Go, whose float arithmetic
// keeps subnormals (lib/nn flushes the results of its products instead).
func Flushes() bool { return false }
