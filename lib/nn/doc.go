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
// Conventions: a Matrix is row-major with no padding between rows. Forward
// functions overwrite their outputs. Backward functions accumulate (+=)
// into parameter gradients (Param.Grad) and into the gradients of gathered
// tables, and overwrite the gradients of layer inputs. A gradient output
// whose Data is nil is not computed. Shape mismatches are programmer errors
// and panic with a message naming the shapes.
package nn
