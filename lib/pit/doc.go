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
// The same gather-compute-scatter serves the model operators of the
// paper's experiments: the MoE layer (MoEPIT, tokens of one expert
// gathered into dense panels), the sequence-length-sparse linear
// (SeqlenTileSkip, SeqlenGather), attention with a dynamic mask
// (AttentionLongformerPIT, AttentionBlocks on an online index) and a
// training step with a weight mask that changes every step
// (LinearStepPIT). Each has the baselines of §5.4 beside it: CSR
// (NewCSR, CSRMatmul), a block-sparse cover with its conversion cost
// (NewBCSR, TritonLayout, BCSRMatmul), a statically tuned block shape
// (TuneBCSR), and the MoE loop, capacity, padded-block and all-experts
// layers. EffectiveSparsities, Choose and Calibrate pick the micro-tile
// from a measured cost table (§2.7).
//
// Every operator returns a Work: multiply-adds executed and useful, bytes
// gathered, tiles, index reads (§5.2, conclusion 2). Work depends on the
// mask and the shapes only, never on the values. Results never depend on
// the number of workers: each output element is summed by one goroutine in
// a fixed order.
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
