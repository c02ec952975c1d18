//go:build !purego

#include "textflag.h"

// AVX2 kernels of the float32 GELU: the same operations, in the same
// order, as geluForward32, geluBackward32 and geluBackwardE in
// activation.go (no fused multiply-add), on 8 elements at a time. MAXPS
// and MINPS take the element of x as their second source so that a NaN
// passes through, as Go's min and max do.

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

// GELUEXP computes Y4 = exp32(−2·√(2/π)·(v + 0.044715v³)) for v in Y0.
// It uses Y1-Y4 and Y15.
#define GELUEXP \
	VMULPS  geluA<>(SB), Y0, Y1 \
	VMULPS  Y0, Y1, Y1 \
	VMULPS  Y0, Y1, Y1 \
	VADDPS  Y1, Y0, Y1 \
	VMULPS  geluM2C<>(SB), Y1, Y1 \
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

// func geluForwardAVX2(x, y, e *float32, blocks int)
// y = x/(1+exp32(−2u)) for max(x, −10); e = exp32(−2u) if e != nil.
TEXT ·geluForwardAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ e+16(FP), DX
	MOVQ blocks+24(FP), CX
	TESTQ CX, CX
	JZ   fdone

floop:
	VMOVUPS (SI), Y0
	VMOVUPS geluMin<>(SB), Y15
	VMAXPS  Y0, Y15, Y0
	GELUEXP
	VADDPS  one<>(SB), Y4, Y5
	VDIVPS  Y5, Y0, Y6
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
// dx = dy·s·(1 + v·(e·s)·2u′) with v = clamp(x, −10, 10), s = 1/(1+e);
// e is recomputed from v when nil.
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
	VMOVUPS (R8), Y9
	VMULPS  Y6, Y9, Y9
	VMULPS  Y8, Y9, Y9
	VMOVUPS Y9, (DI)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, DI
	DECQ    CX
	JNZ     bloop

bdone:
	VZEROUPPER
	RET
