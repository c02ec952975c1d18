//go:build openblas && cgo

package backend

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

const name = "openblas"

func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	SetThreads(1)
}

// SetThreads sets the number of threads OpenBLAS may use per call.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Core returns the CPU kernel set OpenBLAS chose, e.g. "Haswell".
func Core() string { return C.GoString(C.openblas_get_corename()) }
