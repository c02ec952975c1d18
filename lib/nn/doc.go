// Package nn is a small training engine: neural-network layers with
// explicit forward and backward passes, losses and optimizers, over
// row-major dense matrices whose products go through gonum's BLAS
// interface (blas32.Gemm, blas64.Gemm). An optimised BLAS installed with
// blas32.Use and blas64.Use (lib/backend installs OpenBLAS) is picked up
// without changes here.
//
// It serves the Pitot models of specs/pitot.md:
//
//   - MLP towers evaluated over every entity of a table (section 2.2):
//     Linear layers with Haiku's default initialisation (W drawn from a
//     normal truncated at ±2σ, σ = 1/√fan_in, b = 0), GELU in JAX's tanh
//     approximation (jax.nn.gelu(approximate=True)), and tanh for the older
//     version (section 8.2);
//   - row gathers with their scatter-add gradients, row-wise dot products
//     and leaky ReLU for the prediction of section 2.4;
//   - the Squared, Pinball ("conformal convention") and PercentError losses
//     of section 2.6;
//   - optax.adamaxw (section 2.7) and optax.adam (section 8).
//
// Everything is generic over the element type: models train in float32,
// and the tests check every gradient in float64 against central
// differences. Layers allocate their buffers once, at construction, for a
// fixed number of rows; a training step then allocates nothing (gonum's
// pure-Go GEMM allocates for its worker goroutines on large products;
// OpenBLAS does not).
//
// Speed: the products are BLAS calls; the elementwise work that remains
// is written to keep a Pitot step GEMM-bound. In float32, GELU is computed
// through a float32 exponential instead of math.Tanh, and GELU, tanh and
// the AdamaxW and Adam updates run as AVX2 assembly on amd64
// (kernels_amd64.s), which performs the same float32 operations in the
// same order as the Go loops and so gives the same results, bit for bit
// unless the compiler fuses multiply-adds in the Go loops (GOAMD64=v3);
// the build tag purego, or a CPU without AVX2, selects the Go loops.
//
// Subnormals: float32 numbers below 2^-126 in magnitude cost a microcode
// assist of a hundred cycles or more on many x86 cores (Intel's among
// them) for each instruction that reads or writes one, unless the
// floating-point unit flushes them (the FTZ and DAZ bits of MXCSR). In
// Pitot training they arise where a GELU unit is far below zero, so that
// gelu'(x) is below 1e-30 and its product with the upstream gradient
// underflows; in weight gradients that multiply such values; and in the
// optimizers' moments, which decay geometrically for a parameter whose
// gradient stays zero (m reaches 2^-126 after about 800 steps). They then
// reach the operands of the backward products, which ran 4-6x slower on
// an Intel Xeon than with normal operands. The engine stops them at the
// source, in software, the same way on every thread and in every build:
//
//   - the float32 GELU is exactly 0, with derivative 0, for x ≤ −9 (where
//     the tanh form is below 1.3e-28 and its derivative below 2.5e-27);
//   - every elementwise kernel that can underflow (the GELU, tanh and
//     leaky-ReLU passes, the optimizer moments m and v) replaces a
//     subnormal result by a zero of its sign, by comparing its bits as
//     integers (flush), in the AVX2 kernels and the Go loops alike, so
//     both still agree bit for bit;
//   - products leave no subnormal result: lib/backend runs OpenBLAS's
//     sgemm with FTZ and DAZ set on the calling thread for the duration
//     of the call (and restored before returning to Go, whose own
//     arithmetic keeps IEEE gradual underflow), and after any BLAS that
//     does not say it flushes (gonum's pure-Go one), Gemm flushes c.
//
// Flushing changes values only below 2^-126, far under the resolution of
// anything they are added to, and it is deterministic: the same inputs give
// the same bits on one machine, with or without a fast FPU path for
// subnormals. lib/train's TestNoSubnormalOperands counts subnormal operands
// and results of every product of a few hundred real training steps of
// each model family (through ObserveGemm) and fails on any; `make bench`
// reports whether FTZ/DAZ is in effect beside each step time.
//
// Conventions: a Matrix is row-major with no padding between rows. Forward
// functions overwrite their outputs. Backward functions accumulate (+=)
// into parameter gradients (Param.Grad) and into the gradients of gathered
// tables, and overwrite the gradients of layer inputs. A gradient output
// whose Data is nil is not computed. Shape mismatches are programmer errors
// and panic with a message naming the shapes.
package nn
