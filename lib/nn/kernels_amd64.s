//go:build !purego

#include "textflag.h"

// AVX2 kernels for float32: GELU, tanh, and the AdamaxW and Adam updates.
// Each performs the same IEEE operations, in the same order, as the Go
// loop it stands for (geluForwardGo, geluBackwardGo, tanh32, adamaxwGo,
// adamGo), with no fused multiply-add, on 8 elements at a time, so that
// both give identical results (TestKernels). Where Go clamps with
// "if z < c { z = c }", MAXPS and MINPS take z as their second source so
// that a NaN passes through as it does in Go.

#define CONST8(name, bits) \
	DATA name<>+0(SB)/4, bits \
	DATA name<>+4(SB)/4, bits \
	DATA name<>+8(SB)/4, bits \
	DATA name<>+12(SB)/4, bits \
	DATA name<>+16(SB)/4, bits \
	DATA name<>+20(SB)/4, bits \
	DATA name<>+24(SB)/4, bits \
	DATA name<>+28(SB)/4, bits \
	GLOBL name<>(SB), RODATA|NOPTR, $32

CONST8(geluMin, $0xc1200000)   // -10
CONST8(geluMax, $0x41200000)   // 10
CONST8(geluA, $0x3d372713)     // 0.044715
CONST8(geluA3, $0x3e095d4f)    // 3·0.044715
CONST8(geluM2C, $0xbfcc422a)   // -2·√(2/π)
CONST8(gelu2C, $0x3fcc422a)    // 2·√(2/π)
CONST8(expMin, $0xc2ae0000)    // -87
CONST8(expMax, $0x42ae0000)    // 87
CONST8(log2e, $0x3fb8aa3b)     // log2(e)
CONST8(roundBias, $0x4b400000) // 1.5·2^23
CONST8(ln2Hi, $0x3f318000)     // 0.693359375
CONST8(ln2Lo, $0xb95e8083)     // -2.12194440e-4
CONST8(expP0, $0x39506967)     // 1.9875691500e-4
CONST8(expP1, $0x3ab743ce)     // 1.3981999507e-3
CONST8(expP2, $0x3c088908)     // 8.3334519073e-3
CONST8(expP3, $0x3d2aa9c1)     // 4.1665795894e-2
CONST8(expP4, $0x3e2aaaaa)     // 1.6666665459e-1
CONST8(expP5, $0x3f000000)     // 5.0000001201e-1
CONST8(one, $0x3f800000)       // 1
CONST8(bias127, $0x0000007f)   // 127 (int32)
CONST8(absMask, $0x7fffffff)   // clears the sign bit
CONST8(signMask, $0x80000000)  // keeps only the sign bit
CONST8(two, $0x40000000)       // 2
CONST8(tanhCut, $0x3f200000)   // 0.625
CONST8(tanhC0, $0xbbbaf0ea)    // -5.70498872745e-3
CONST8(tanhC1, $0x3ca9134e)    // 2.06390887954e-2
CONST8(tanhC2, $0x3d5c1e2d)    // 5.37397155531e-2 (subtracted)
CONST8(tanhC3, $0x3e088393)    // 1.33314422036e-1
CONST8(tanhC4, $0x3eaaaa99)    // 3.33332819422e-1 (subtracted)
CONST8(geluZero, $0xc1100000)  // -9
CONST8(maxSub, $0x007fffff)    // the bits of the largest subnormal

// FLUSH(r, t) replaces each subnormal of r by a zero of its sign, as
// flush (activation.go) does: it compares the bits of |r| as integers, so
// a subnormal costs no microcode assist. It uses t.
#define FLUSH(r, t) \
	VANDPS   absMask<>(SB), r, t \
	VPCMPGTD maxSub<>(SB), t, t \
	VORPS    signMask<>(SB), t, t \
	VANDPS   t, r, r

// EXP32 computes Y4 = exp32(Y1) (activation.go). It uses Y1-Y4 and Y15.
#define EXP32 \
	VMOVUPS expMin<>(SB), Y15 \
	VMAXPS  Y1, Y15, Y1 \
	VMOVUPS expMax<>(SB), Y15 \
	VMINPS  Y1, Y15, Y1 \
	VMULPS  log2e<>(SB), Y1, Y2 \
	VADDPS  roundBias<>(SB), Y2, Y2 \
	VPSUBD  roundBias<>(SB), Y2, Y3 \
	VSUBPS  roundBias<>(SB), Y2, Y2 \
	VMULPS  ln2Hi<>(SB), Y2, Y4 \
	VSUBPS  Y4, Y1, Y1 \
	VMULPS  ln2Lo<>(SB), Y2, Y4 \
	VSUBPS  Y4, Y1, Y1 \
	VMULPS  expP0<>(SB), Y1, Y4 \
	VADDPS  expP1<>(SB), Y4, Y4 \
	VMULPS  Y1, Y4, Y4 \
	VADDPS  expP2<>(SB), Y4, Y4 \
	VMULPS  Y1, Y4, Y4 \
	VADDPS  expP3<>(SB), Y4, Y4 \
	VMULPS  Y1, Y4, Y4 \
	VADDPS  expP4<>(SB), Y4, Y4 \
	VMULPS  Y1, Y4, Y4 \
	VADDPS  expP5<>(SB), Y4, Y4 \
	VMULPS  Y1, Y4, Y4 \
	VMULPS  Y1, Y4, Y4 \
	VADDPS  Y1, Y4, Y4 \
	VADDPS  one<>(SB), Y4, Y4 \
	VPADDD  bias127<>(SB), Y3, Y3 \
	VPSLLD  $23, Y3, Y3 \
	VMULPS  Y3, Y4, Y4

// GELUEXP computes Y4 = exp32(−2·√(2/π)·(v + 0.044715v³)) for v in Y0.
// It uses Y1-Y4 and Y15.
#define GELUEXP \
	VMULPS  geluA<>(SB), Y0, Y1 \
	VMULPS  Y0, Y1, Y1 \
	VMULPS  Y0, Y1, Y1 \
	VADDPS  Y1, Y0, Y1 \
	VMULPS  geluM2C<>(SB), Y1, Y1 \
	EXP32

// func geluForwardAVX2(x, y, e *float32, blocks int)
// y = x/(1+exp32(−2u)) for max(x, −10), 0 where x ≤ −9, flushed;
// e = exp32(−2u) if e != nil.
TEXT ·geluForwardAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ e+16(FP), DX
	MOVQ blocks+24(FP), CX
	CMPQ CX, $2
	JLT  fone

	// Two blocks per iteration: the exp chain is long, and two independent
	// chains keep the FP pipes busy.
floop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y8
	VMOVUPS geluMin<>(SB), Y15
	VMAXPS  Y0, Y15, Y0
	VMAXPS  Y8, Y15, Y8
	VMULPS  geluA<>(SB), Y0, Y1
	VMULPS  geluA<>(SB), Y8, Y9
	VMULPS  Y0, Y1, Y1
	VMULPS  Y8, Y9, Y9
	VMULPS  Y0, Y1, Y1
	VMULPS  Y8, Y9, Y9
	VADDPS  Y1, Y0, Y1
	VADDPS  Y9, Y8, Y9
	VMULPS  geluM2C<>(SB), Y1, Y1
	VMULPS  geluM2C<>(SB), Y9, Y9
	VMOVUPS expMin<>(SB), Y15
	VMOVUPS expMin<>(SB), Y14
	VMAXPS  Y1, Y15, Y1
	VMAXPS  Y9, Y14, Y9
	VMOVUPS expMax<>(SB), Y15
	VMOVUPS expMax<>(SB), Y14
	VMINPS  Y1, Y15, Y1
	VMINPS  Y9, Y14, Y9
	VMULPS  log2e<>(SB), Y1, Y2
	VMULPS  log2e<>(SB), Y9, Y10
	VADDPS  roundBias<>(SB), Y2, Y2
	VADDPS  roundBias<>(SB), Y10, Y10
	VPSUBD  roundBias<>(SB), Y2, Y3
	VPSUBD  roundBias<>(SB), Y10, Y11
	VSUBPS  roundBias<>(SB), Y2, Y2
	VSUBPS  roundBias<>(SB), Y10, Y10
	VMULPS  ln2Hi<>(SB), Y2, Y4
	VMULPS  ln2Hi<>(SB), Y10, Y12
	VSUBPS  Y4, Y1, Y1
	VSUBPS  Y12, Y9, Y9
	VMULPS  ln2Lo<>(SB), Y2, Y4
	VMULPS  ln2Lo<>(SB), Y10, Y12
	VSUBPS  Y4, Y1, Y1
	VSUBPS  Y12, Y9, Y9
	VMULPS  expP0<>(SB), Y1, Y4
	VMULPS  expP0<>(SB), Y9, Y12
	VADDPS  expP1<>(SB), Y4, Y4
	VADDPS  expP1<>(SB), Y12, Y12
	VMULPS  Y1, Y4, Y4
	VMULPS  Y9, Y12, Y12
	VADDPS  expP2<>(SB), Y4, Y4
	VADDPS  expP2<>(SB), Y12, Y12
	VMULPS  Y1, Y4, Y4
	VMULPS  Y9, Y12, Y12
	VADDPS  expP3<>(SB), Y4, Y4
	VADDPS  expP3<>(SB), Y12, Y12
	VMULPS  Y1, Y4, Y4
	VMULPS  Y9, Y12, Y12
	VADDPS  expP4<>(SB), Y4, Y4
	VADDPS  expP4<>(SB), Y12, Y12
	VMULPS  Y1, Y4, Y4
	VMULPS  Y9, Y12, Y12
	VADDPS  expP5<>(SB), Y4, Y4
	VADDPS  expP5<>(SB), Y12, Y12
	VMULPS  Y1, Y4, Y4
	VMULPS  Y9, Y12, Y12
	VMULPS  Y1, Y4, Y4
	VMULPS  Y9, Y12, Y12
	VADDPS  Y1, Y4, Y4
	VADDPS  Y9, Y12, Y12
	VADDPS  one<>(SB), Y4, Y4
	VADDPS  one<>(SB), Y12, Y12
	VPADDD  bias127<>(SB), Y3, Y3
	VPADDD  bias127<>(SB), Y11, Y11
	VPSLLD  $23, Y3, Y3
	VPSLLD  $23, Y11, Y11
	VMULPS  Y3, Y4, Y4
	VMULPS  Y11, Y12, Y12
	VADDPS  one<>(SB), Y4, Y5
	VADDPS  one<>(SB), Y12, Y13
	VDIVPS  Y5, Y0, Y6
	VDIVPS  Y13, Y8, Y7
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y9
	VCMPPS  $0x12, geluZero<>(SB), Y1, Y1
	VCMPPS  $0x12, geluZero<>(SB), Y9, Y9
	VANDNPS Y6, Y1, Y6
	VANDNPS Y7, Y9, Y7
	FLUSH(Y6, Y2)
	FLUSH(Y7, Y10)
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	TESTQ   DX, DX
	JZ      fnoe2
	VMOVUPS Y4, (DX)
	VMOVUPS Y12, 32(DX)
	ADDQ    $64, DX

fnoe2:
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  floop2

fone:
	TESTQ CX, CX
	JZ   fdone

floop:
	VMOVUPS (SI), Y0
	VMOVUPS geluMin<>(SB), Y15
	VMAXPS  Y0, Y15, Y0
	GELUEXP
	VADDPS  one<>(SB), Y4, Y5
	VDIVPS  Y5, Y0, Y6
	VMOVUPS (SI), Y1
	VCMPPS  $0x12, geluZero<>(SB), Y1, Y1
	VANDNPS Y6, Y1, Y6
	FLUSH(Y6, Y2)
	VMOVUPS Y6, (DI)
	TESTQ   DX, DX
	JZ      fnoe
	VMOVUPS Y4, (DX)
	ADDQ    $32, DX

fnoe:
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  floop

fdone:
	VZEROUPPER
	RET

// func geluBackwardAVX2(x, e, dy, dx *float32, blocks int)
// dx = dy·d, flushed, with d = s·(1 + v·(e·s)·2u′), v = clamp(x, −10, 10),
// s = 1/(1+e), and d = 0 where x ≤ −9; e is recomputed from v when nil.
TEXT ·geluBackwardAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ e+8(FP), DX
	MOVQ dy+16(FP), R8
	MOVQ dx+24(FP), DI
	MOVQ blocks+32(FP), CX
	TESTQ CX, CX
	JZ   bdone

bloop:
	VMOVUPS (SI), Y0
	VMOVUPS geluMin<>(SB), Y15
	VMAXPS  Y0, Y15, Y0
	VMOVUPS geluMax<>(SB), Y15
	VMINPS  Y0, Y15, Y0
	TESTQ   DX, DX
	JZ      bexp
	VMOVUPS (DX), Y4
	ADDQ    $32, DX
	JMP     bhave

bexp:
	GELUEXP

bhave:
	VMOVUPS one<>(SB), Y6
	VADDPS  Y6, Y4, Y5
	VDIVPS  Y5, Y6, Y6
	VMULPS  geluA3<>(SB), Y0, Y7
	VMULPS  Y0, Y7, Y7
	VADDPS  one<>(SB), Y7, Y7
	VMULPS  gelu2C<>(SB), Y7, Y7
	VMULPS  Y6, Y4, Y8
	VMULPS  Y8, Y0, Y8
	VMULPS  Y7, Y8, Y8
	VADDPS  one<>(SB), Y8, Y8
	VMULPS  Y6, Y8, Y8
	VMOVUPS (SI), Y10
	VCMPPS  $0x12, geluZero<>(SB), Y10, Y10
	VANDNPS Y8, Y10, Y8
	VMOVUPS (R8), Y9
	VMULPS  Y8, Y9, Y9
	FLUSH(Y9, Y11)
	VMOVUPS Y9, (DI)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, DI
	DECQ    CX
	JNZ     bloop

bdone:
	VZEROUPPER
	RET

// func tanhAVX2(x, y *float32, blocks int)
// y = tanh32(x): both of tanh32's branches, blended on |x| > 0.625.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ blocks+16(FP), CX
	TESTQ CX, CX
	JZ   tdone

tloop:
	VMOVUPS (SI), Y0
	VANDPS  absMask<>(SB), Y0, Y5
	VADDPS  Y5, Y5, Y1
	EXP32
	VADDPS  one<>(SB), Y4, Y4
	VMOVUPS two<>(SB), Y6
	VDIVPS  Y4, Y6, Y6
	VMOVUPS one<>(SB), Y7
	VSUBPS  Y6, Y7, Y7
	VANDPS  signMask<>(SB), Y0, Y8
	VORPS   Y8, Y7, Y7
	VMULPS  Y0, Y0, Y9
	VMULPS  tanhC0<>(SB), Y9, Y10
	VADDPS  tanhC1<>(SB), Y10, Y10
	VMULPS  Y9, Y10, Y10
	VSUBPS  tanhC2<>(SB), Y10, Y10
	VMULPS  Y9, Y10, Y10
	VADDPS  tanhC3<>(SB), Y10, Y10
	VMULPS  Y9, Y10, Y10
	VSUBPS  tanhC4<>(SB), Y10, Y10
	VMULPS  Y9, Y10, Y10
	VMULPS  Y0, Y10, Y10
	VADDPS  Y0, Y10, Y10
	VCMPPS  $0x1e, tanhCut<>(SB), Y5, Y11
	VBLENDVPS Y11, Y7, Y10, Y10
	VMOVUPS Y10, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tloop

tdone:
	VZEROUPPER
	RET

// func adamaxwAVX2(x, grad, m, u *float32, blocks int, b1, c1, b2, eps, lr, wd, bc float32)
// m = flush(b1·m + c1·g); u = max(b2·u, |g| + eps); x = x − lr·((m/bc)/u + wd·x).
TEXT ·adamaxwAVX2(SB), NOSPLIT, $0-68
	MOVQ x+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ u+24(FP), R9
	MOVQ blocks+32(FP), CX
	TESTQ CX, CX
	JZ   xdone
	VBROADCASTSS b1+40(FP), Y10
	VBROADCASTSS c1+44(FP), Y11
	VBROADCASTSS b2+48(FP), Y12
	VBROADCASTSS eps+52(FP), Y13
	VBROADCASTSS lr+56(FP), Y14
	VBROADCASTSS wd+60(FP), Y15
	VBROADCASTSS bc+64(FP), Y9
	VMOVUPS absMask<>(SB), Y8

xloop:
	VMOVUPS (SI), Y0
	VMOVUPS (R8), Y1
	VMULPS  Y10, Y1, Y1
	VMULPS  Y11, Y0, Y2
	VADDPS  Y2, Y1, Y1
	FLUSH(Y1, Y2)
	VMOVUPS Y1, (R8)
	VANDPS  Y8, Y0, Y3
	VADDPS  Y13, Y3, Y3
	VMOVUPS (R9), Y4
	VMULPS  Y12, Y4, Y4
	VMAXPS  Y4, Y3, Y4
	VMOVUPS Y4, (R9)
	VDIVPS  Y9, Y1, Y5
	VDIVPS  Y4, Y5, Y5
	VMOVUPS (DI), Y6
	VMULPS  Y15, Y6, Y7
	VADDPS  Y7, Y5, Y5
	VMULPS  Y14, Y5, Y5
	VSUBPS  Y5, Y6, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  xloop

xdone:
	VZEROUPPER
	RET

// func adamAVX2(x, grad, m, v *float32, blocks int, b1, c1, b2, c2, eps, lr, bc1, bc2 float32)
// m = flush(b1·m + c1·g); v = flush(b2·v + (c2·g)·g); x = x − (lr·(m/bc1))/(√(v/bc2) + eps).
TEXT ·adamAVX2(SB), NOSPLIT, $0-72
	MOVQ x+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ blocks+32(FP), CX
	TESTQ CX, CX
	JZ   adone
	VBROADCASTSS b1+40(FP), Y8
	VBROADCASTSS c1+44(FP), Y9
	VBROADCASTSS b2+48(FP), Y10
	VBROADCASTSS c2+52(FP), Y11
	VBROADCASTSS eps+56(FP), Y12
	VBROADCASTSS lr+60(FP), Y13
	VBROADCASTSS bc1+64(FP), Y14
	VBROADCASTSS bc2+68(FP), Y15

aloop:
	VMOVUPS (SI), Y0
	VMOVUPS (R8), Y1
	VMULPS  Y8, Y1, Y1
	VMULPS  Y9, Y0, Y2
	VADDPS  Y2, Y1, Y1
	FLUSH(Y1, Y2)
	VMOVUPS Y1, (R8)
	VMOVUPS (R9), Y3
	VMULPS  Y10, Y3, Y3
	VMULPS  Y11, Y0, Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y4, Y3, Y3
	FLUSH(Y3, Y4)
	VMOVUPS Y3, (R9)
	VDIVPS  Y14, Y1, Y5
	VMULPS  Y13, Y5, Y5
	VDIVPS  Y15, Y3, Y6
	VSQRTPS Y6, Y6
	VADDPS  Y12, Y6, Y6
	VDIVPS  Y6, Y5, Y5
	VMOVUPS (DI), Y7
	VSUBPS  Y5, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  aloop

adone:
	VZEROUPPER
	RET

// func rowDotsAVX2(a, b, out *float32, rows, cols int)
// out[i] = ⟨a.Row(i), b.Row(i)⟩ for cols a positive multiple of 8, summed
// in 8 lanes and reduced as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), as dot.
TEXT ·rowDotsAVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ out+16(FP), DI
	MOVQ rows+24(FP), CX
	MOVQ cols+32(FP), R8
	SHRQ $3, R8
	TESTQ CX, CX
	JZ   ddone

drow:
	VXORPS Y0, Y0, Y0
	MOVQ   R8, R9

dchunk:
	VMOVUPS (SI), Y1
	VMULPS  (DX), Y1, Y1
	VADDPS  Y1, Y0, Y0
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    R9
	JNZ     dchunk
	VEXTRACTF128 $1, Y0, X1
	VADDPS  X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS  X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS  X1, X0, X0
	VMOVSS  X0, (DI)
	ADDQ    $4, DI
	DECQ    CX
	JNZ     drow

ddone:
	VZEROUPPER
	RET

// func rowAxpyAVX2(alpha, x, y *float32, rows, cols int)
// y.Row(i) += alpha[i]·x.Row(i) for cols a positive multiple of 8.
TEXT ·rowAxpyAVX2(SB), NOSPLIT, $0-40
	MOVQ alpha+0(FP), R10
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ rows+24(FP), CX
	MOVQ cols+32(FP), R8
	SHRQ $3, R8
	TESTQ CX, CX
	JZ   adone2

arow:
	VBROADCASTSS (R10), Y0
	MOVQ R8, R9

achunk:
	VMULPS  (SI), Y0, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    R9
	JNZ     achunk
	ADDQ    $4, R10
	DECQ    CX
	JNZ     arow

adone2:
	VZEROUPPER
	RET

// func scatterAddAVX2(src, dst *float32, idx *int, rows, cols int)
// dst.Row(idx[i]) += src.Row(i) for cols a positive multiple of 8; the
// indices are checked by the caller.
TEXT ·scatterAddAVX2(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DX
	MOVQ idx+16(FP), R10
	MOVQ rows+24(FP), CX
	MOVQ cols+32(FP), R8
	MOVQ R8, R11
	SHLQ $2, R11
	SHRQ $3, R8
	TESTQ CX, CX
	JZ   sdone

srow:
	MOVQ (R10), DI
	IMULQ R11, DI
	ADDQ DX, DI
	MOVQ R8, R9

schunk:
	VMOVUPS (SI), Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    R9
	JNZ     schunk
	ADDQ    $8, R10
	DECQ    CX
	JNZ     srow

sdone:
	VZEROUPPER
	RET

// func dotsStridedAVX2(a, b, out *float32, rows, cols, astep, bstep int)
// out[i] = dot(a[i·astep:][:cols], b[i·bstep:][:cols]) for cols a positive
// multiple of 8, summed in the lane order of dot (gather.go).
TEXT ·dotsStridedAVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ out+16(FP), DI
	MOVQ rows+24(FP), CX
	MOVQ cols+32(FP), R8
	MOVQ astep+40(FP), R11
	MOVQ bstep+48(FP), R12
	SHLQ $2, R11
	SHLQ $2, R12
	SHRQ $3, R8
	TESTQ CX, CX
	JZ   sddone

sdrow:
	VXORPS Y0, Y0, Y0
	MOVQ   R8, R9
	MOVQ   SI, R10
	MOVQ   DX, R13

sdchunk:
	VMOVUPS (R10), Y1
	VMULPS  (R13), Y1, Y1
	VADDPS  Y1, Y0, Y0
	ADDQ    $32, R10
	ADDQ    $32, R13
	DECQ    R9
	JNZ     sdchunk
	VEXTRACTF128 $1, Y0, X1
	VADDPS  X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS  X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS  X1, X0, X0
	VMOVSS  X0, (DI)
	ADDQ    $4, DI
	ADDQ    R11, SI
	ADDQ    R12, DX
	DECQ    CX
	JNZ     sdrow

sddone:
	VZEROUPPER
	RET

// func axpysStridedAVX2(alpha, x, y *float32, rows, cols, xstep, ystep int)
// y[i·ystep:][:cols] += alpha[i]·x[i·xstep:][:cols], row after row, for cols
// a positive multiple of 8.
TEXT ·axpysStridedAVX2(SB), NOSPLIT, $0-56
	MOVQ alpha+0(FP), AX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ rows+24(FP), CX
	MOVQ cols+32(FP), R8
	MOVQ xstep+40(FP), R11
	MOVQ ystep+48(FP), R12
	SHLQ $2, R11
	SHLQ $2, R12
	SHRQ $3, R8
	TESTQ CX, CX
	JZ   sadone

sarow:
	VBROADCASTSS (AX), Y0
	MOVQ R8, R9
	MOVQ SI, R10
	MOVQ DI, R13

sachunk:
	VMULPS  (R10), Y0, Y1
	VADDPS  (R13), Y1, Y1
	VMOVUPS Y1, (R13)
	ADDQ    $32, R10
	ADDQ    $32, R13
	DECQ    R9
	JNZ     sachunk
	ADDQ $4, AX
	ADDQ R11, SI
	ADDQ R12, DI
	DECQ CX
	JNZ  sarow

sadone:
	VZEROUPPER
	RET

// func geluForwardAVX512(x, y, e *float32, blocks int)
// geluForwardAVX2 on 32·blocks elements, 16 to a register and two
// registers per iteration, with the same operations in the same order.
// Comparisons write mask registers: the x ≤ −9 zeroing keeps lanes where
// the comparison is false (NLE_UQ, so a NaN stays), and the subnormal
// flush keeps lanes whose |bits| exceed the largest subnormal's, leaving
// only the sign elsewhere.
TEXT ·geluForwardAVX512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         e+16(FP), DX
	MOVQ         blocks+24(FP), CX
	VBROADCASTSS geluMin<>(SB), Z29
	VBROADCASTSS expMin<>(SB), Z30
	VBROADCASTSS expMax<>(SB), Z31

zloop:
	VMOVUPS          (SI), Z0
	VMOVUPS          64(SI), Z8
	VMAXPS           Z0, Z29, Z0
	VMAXPS           Z8, Z29, Z8
	VMULPS.BCST      geluA<>(SB), Z0, Z1
	VMULPS.BCST      geluA<>(SB), Z8, Z9
	VMULPS           Z0, Z1, Z1
	VMULPS           Z8, Z9, Z9
	VMULPS           Z0, Z1, Z1
	VMULPS           Z8, Z9, Z9
	VADDPS           Z1, Z0, Z1
	VADDPS           Z9, Z8, Z9
	VMULPS.BCST      geluM2C<>(SB), Z1, Z1
	VMULPS.BCST      geluM2C<>(SB), Z9, Z9
	VMAXPS           Z1, Z30, Z1
	VMAXPS           Z9, Z30, Z9
	VMINPS           Z1, Z31, Z1
	VMINPS           Z9, Z31, Z9
	VMULPS.BCST      log2e<>(SB), Z1, Z2
	VMULPS.BCST      log2e<>(SB), Z9, Z10
	VADDPS.BCST      roundBias<>(SB), Z2, Z2
	VADDPS.BCST      roundBias<>(SB), Z10, Z10
	VPSUBD.BCST      roundBias<>(SB), Z2, Z3
	VPSUBD.BCST      roundBias<>(SB), Z10, Z11
	VSUBPS.BCST      roundBias<>(SB), Z2, Z2
	VSUBPS.BCST      roundBias<>(SB), Z10, Z10
	VMULPS.BCST      ln2Hi<>(SB), Z2, Z4
	VMULPS.BCST      ln2Hi<>(SB), Z10, Z12
	VSUBPS           Z4, Z1, Z1
	VSUBPS           Z12, Z9, Z9
	VMULPS.BCST      ln2Lo<>(SB), Z2, Z4
	VMULPS.BCST      ln2Lo<>(SB), Z10, Z12
	VSUBPS           Z4, Z1, Z1
	VSUBPS           Z12, Z9, Z9
	VMULPS.BCST      expP0<>(SB), Z1, Z4
	VMULPS.BCST      expP0<>(SB), Z9, Z12
	VADDPS.BCST      expP1<>(SB), Z4, Z4
	VADDPS.BCST      expP1<>(SB), Z12, Z12
	VMULPS           Z1, Z4, Z4
	VMULPS           Z9, Z12, Z12
	VADDPS.BCST      expP2<>(SB), Z4, Z4
	VADDPS.BCST      expP2<>(SB), Z12, Z12
	VMULPS           Z1, Z4, Z4
	VMULPS           Z9, Z12, Z12
	VADDPS.BCST      expP3<>(SB), Z4, Z4
	VADDPS.BCST      expP3<>(SB), Z12, Z12
	VMULPS           Z1, Z4, Z4
	VMULPS           Z9, Z12, Z12
	VADDPS.BCST      expP4<>(SB), Z4, Z4
	VADDPS.BCST      expP4<>(SB), Z12, Z12
	VMULPS           Z1, Z4, Z4
	VMULPS           Z9, Z12, Z12
	VADDPS.BCST      expP5<>(SB), Z4, Z4
	VADDPS.BCST      expP5<>(SB), Z12, Z12
	VMULPS           Z1, Z4, Z4
	VMULPS           Z9, Z12, Z12
	VMULPS           Z1, Z4, Z4
	VMULPS           Z9, Z12, Z12
	VADDPS           Z1, Z4, Z4
	VADDPS           Z9, Z12, Z12
	VADDPS.BCST      one<>(SB), Z4, Z4
	VADDPS.BCST      one<>(SB), Z12, Z12
	VPADDD.BCST      bias127<>(SB), Z3, Z3
	VPADDD.BCST      bias127<>(SB), Z11, Z11
	VPSLLD           $23, Z3, Z3
	VPSLLD           $23, Z11, Z11
	VMULPS           Z3, Z4, Z4
	VMULPS           Z11, Z12, Z12
	VADDPS.BCST      one<>(SB), Z4, Z5
	VADDPS.BCST      one<>(SB), Z12, Z13
	VDIVPS           Z5, Z0, Z6
	VDIVPS           Z13, Z8, Z7
	VMOVUPS          (SI), Z1
	VMOVUPS          64(SI), Z9
	VCMPPS.BCST      $0x16, geluZero<>(SB), Z1, K1
	VCMPPS.BCST      $0x16, geluZero<>(SB), Z9, K2
	VMOVAPS.Z        Z6, K1, Z6
	VMOVAPS.Z        Z7, K2, Z7
	VANDPS.BCST      absMask<>(SB), Z6, Z2
	VANDPS.BCST      absMask<>(SB), Z7, Z10
	VPCMPGTD.BCST    maxSub<>(SB), Z2, K3
	VPCMPGTD.BCST    maxSub<>(SB), Z10, K4
	VANDPS.BCST      signMask<>(SB), Z6, Z2
	VANDPS.BCST      signMask<>(SB), Z7, Z10
	VMOVAPS          Z6, K3, Z2
	VMOVAPS          Z7, K4, Z10
	VMOVUPS          Z2, (DI)
	VMOVUPS          Z10, 64(DI)
	TESTQ            DX, DX
	JZ               znoe
	VMOVUPS          Z4, (DX)
	VMOVUPS          Z12, 64(DX)
	ADDQ             $128, DX

znoe:
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  zloop
	VZEROUPPER
	RET
