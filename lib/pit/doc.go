// Package pit implements the core of PIT, the permutation invariant
// transformation for dynamic sparsity (Zheng et al., "PIT: Optimization of
// Dynamic Sparse Deep Learning Models via Permutation Invariant
// Transformation", SOSP 2023), at CPU scale; the plan is specs/pit.md
// (sections 2 and 5).
//
// A sparse operand is cut into micro-tiles (Tile, specs/pit.md §2.2). An
// online index (BuildIndex, §2.5) lists the non-empty ones; SRead gathers
// them from arbitrary positions into a dense packed panel and SWrite
// scatters a dense result back (§2.4). Because a sum may be taken in any
// order (§2.3), the gathered panels can be multiplied by an ordinary dense
// kernel: MatmulK permutes the reduction axis (32×1 micro-tiles of A) and
// MatmulM the row axis (1×64 micro-tiles of A, accumulated back into C).
// Every operator returns a Work: multiply-adds executed and useful, bytes
// gathered, tiles, index reads (§5.2, conclusion 2). Work depends on the
// mask and the shapes only, never on the values.
//
// Dense kernels. Gemm calls gonum's blas32.Gemm, which is OpenBLAS when the
// program imports lib/backend and is built with the openblas tag. gonum's
// pure-Go Sgemm skips multiplications by a zero element of A, so its time
// falls with the density of the operand: it is not a fair dense baseline
// (specs/pit.md §5.2). GemmGo is this package's own pure-Go kernel, plain
// blocked loops whose work does not depend on the values. Kernel, the dense
// kernel every operator calls, is Gemm under OpenBLAS and GemmGo otherwise,
// so the dense baseline and the PIT panels always share one kernel.
package pit
