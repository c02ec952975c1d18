//go:build openblas && cgo

package backend

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k,
	float alpha, const float *a, int lda, const float *b, int ldb,
	float beta, float *c, int ldc);

// Flush-to-zero and denormals-are-zero for the duration of one call, on the
// calling thread only, restored before returning to Go (whose own float
// arithmetic assumes the default IEEE mode).
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define PAPERLAB_FLUSH 1
typedef unsigned int fpmode;
static fpmode fpmode_flush(void) {
	fpmode old = _mm_getcsr();
	_mm_setcsr(old | 0x8040); // FTZ (bit 15) | DAZ (bit 6)
	return old;
}
static void fpmode_restore(fpmode old) { _mm_setcsr(old); }
#elif defined(__aarch64__)
#define PAPERLAB_FLUSH 1
typedef unsigned long fpmode;
static fpmode fpmode_flush(void) {
	fpmode old;
	__asm__ volatile("mrs %0, fpcr" : "=r"(old));
	__asm__ volatile("msr fpcr, %0" : : "r"(old | (1UL << 24))); // FZ
	return old;
}
static void fpmode_restore(fpmode old) { __asm__ volatile("msr fpcr, %0" : : "r"(old)); }
#else
#define PAPERLAB_FLUSH 0
typedef int fpmode;
static fpmode fpmode_flush(void) { return 0; }
static void fpmode_restore(fpmode old) { (void)old; }
#endif

static int paperlab_flushes(void) { return PAPERLAB_FLUSH; }

// 101 is CblasRowMajor; 111 CblasNoTrans, 112 CblasTrans.
static void paperlab_sgemm(int transa, int transb, int m, int n, int k,
	float alpha, const float *a, int lda, const float *b, int ldb,
	float beta, float *c, int ldc) {
	fpmode old = fpmode_flush();
	cblas_sgemm(101, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	fpmode_restore(old);
}
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

const name = "openblas"

func init() {
	blas32.Use(flushing{})
	blas64.Use(netlib.Implementation{})
	SetThreads(1)
}

// SetThreads sets the number of threads OpenBLAS may use per call.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Core returns the CPU kernel set OpenBLAS chose, e.g. "Haswell".
func Core() string { return C.GoString(C.openblas_get_corename()) }

// Flushes reports whether float32 products run with subnormals flushed to
// zero (FTZ and DAZ on x86, FZ on arm64).
func Flushes() bool { return C.paperlab_flushes() != 0 }

// flushing is OpenBLAS through netlib, except that Sgemm runs with the
// floating-point unit flushing subnormal operands and results to zero (see
// the package doc).
type flushing struct{ netlib.Implementation }

// FlushesSubnormals tells lib/nn that products leave no subnormal results.
func (flushing) FlushesSubnormals() bool { return Flushes() }

// Sgemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices, as
// netlib.Implementation.Sgemm (with its argument checks), with FTZ and DAZ
// set on the calling thread for the call.
func (flushing) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, ok := cblasTrans(tA)
	tb, okb := cblasTrans(tB)
	if !ok || !okb {
		panic("blas: illegal transpose")
	}
	if m < 0 || n < 0 || k < 0 {
		panic("blas: negative dimension")
	}
	rowA, colA := m, k
	if tA != blas.NoTrans {
		rowA, colA = k, m
	}
	rowB, colB := k, n
	if tB != blas.NoTrans {
		rowB, colB = n, k
	}
	if lda < max(1, colA) || ldb < max(1, colB) || ldc < max(1, n) {
		panic("blas: bad leading dimension")
	}
	if m == 0 || n == 0 {
		return
	}
	if len(a) < lda*(rowA-1)+colA || len(b) < ldb*(rowB-1)+colB || len(c) < ldc*(m-1)+n {
		panic("blas: insufficient matrix slice length")
	}
	var pa, pb *float32
	if len(a) > 0 {
		pa = &a[0]
	}
	if len(b) > 0 {
		pb = &b[0]
	}
	C.paperlab_sgemm(ta, tb, C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(pa), C.int(lda), (*C.float)(pb), C.int(ldb), C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

func cblasTrans(t blas.Transpose) (C.int, bool) {
	switch t {
	case blas.NoTrans:
		return 111, true
	case blas.Trans, blas.ConjTrans: // real matrices: the same
		return 112, true
	}
	return 0, false
}
