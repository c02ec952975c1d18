package nn

import (
	"fmt"
	"math"
	"unsafe"
)

// Activation names an elementwise nonlinearity of an MLP.
type Activation int

const (
	// GELU is jax.nn.gelu with approximate=True, JAX's default and the
	// activation of the Pitot towers (specs/pitot.md 2.2).
	GELU Activation = iota
	// Tanh is the hyperbolic tangent, used by the older Pitot
	// (specs/pitot.md 8.2).
	Tanh
	// LeakyReLU is x for x ≥ 0 and slope·x otherwise (jax.nn.leaky_relu).
	LeakyReLU
	// Identity applies no nonlinearity.
	Identity
)

// String returns the name of the activation.
func (a Activation) String() string {
	switch a {
	case GELU:
		return "gelu"
	case Tanh:
		return "tanh"
	case LeakyReLU:
		return "leaky_relu"
	case Identity:
		return "identity"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Constants of the tanh approximation of GELU:
// gelu(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
const (
	geluC = 0.7978845608028654 // √(2/π)
	geluA = 0.044715
)

func checkLen[T Float](op string, a, b []T) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("nn: %s: lengths %d and %d", op, len(a), len(b)))
	}
}

// as32 reinterprets x as []float32; T must be 4 bytes wide (so its
// underlying type is float32).
func as32[T Float](x []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// as64 reinterprets x as []float64; T must be 8 bytes wide.
func as64[T Float](x []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

func is32[T Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// GELUForward writes y = gelu(x) in JAX's tanh approximation,
// ½x(1 + tanh(√(2/π)(x + 0.044715x³))). y may alias x.
//
// In float32 it uses the identity ½(1 + tanh(u)) = 1/(1 + e^(−2u)) with a
// float32 exponential (exp32), in AVX2 on amd64: the result is within
// 2e-7·max(1, |y|) of the float64 formula (TestGELU32 allows 1e-6). In
// float64 it uses math.Tanh.
func GELUForward[T Float](x, y []T) {
	checkLen("GELUForward", x, y)
	if is32[T]() {
		geluForward32(as32(x), as32(y), nil)
		return
	}
	x64, y64 := as64(x), as64(y)
	for i, v := range x64 {
		y64[i] = 0.5 * v * (1 + math.Tanh(geluC*(v+geluA*v*v*v)))
	}
}

// GELUBackward writes dx = dy·gelu'(x) for the input x of GELUForward. dx
// may alias dy. In float32 it recomputes e^(−2u) like GELUForward (the MLP
// keeps it from the forward pass instead); gelu' is then within about
// 2e-7·max(1, |gelu'|) of the float64 formula.
func GELUBackward[T Float](x, dy, dx []T) {
	checkLen("GELUBackward", x, dy)
	checkLen("GELUBackward", x, dx)
	if is32[T]() {
		geluBackward32(as32(x), nil, as32(dy), as32(dx))
		return
	}
	x64, dy64, dx64 := as64(x), as64(dy), as64(dx)
	for i, v := range x64 {
		t := math.Tanh(geluC * (v + geluA*v*v*v))
		d := 0.5 * (1 + t)
		if q := 1 - t*t; q != 0 { // q = 0 where du below would overflow
			d += 0.5 * v * q * geluC * (1 + 3*geluA*v*v)
		}
		dx64[i] = dy64[i] * d
	}
}

// geluClamp bounds the input of the float32 GELU kernels. Beyond ±10,
// gelu(x) is x or 0 and gelu'(x) is 1 or 0 to float32 precision (the
// neglected terms are below 1e-35), and clamping keeps x³ and x·u′ finite
// for any finite x.
const geluClamp = 10

// geluZero is where the float32 kernels take gelu and gelu' to be exactly
// 0: for x ≤ −9 the tanh form gives |gelu(x)| < 1.3e-28 and |gelu'(x)| <
// 2.5e-27, and computing them would only feed the products that follow
// with numbers that underflow to subnormals (see the package doc,
// Subnormals). A NaN input stays NaN.
const geluZero = -9

// geluForward32 writes y = gelu(x) = x·s with s = σ(2u) = 1/(1 + e^(−2u)),
// and e = e^(−2u) into e unless e is nil (for geluBackward32). For x < −10
// it uses x = −10 in e, and y is 0 for x ≤ −9 (geluZero); a subnormal y
// is flushed to zero. Blocks of 32 run in the AVX-512 kernel and blocks of
// 8 in the AVX2 kernel where there are (the same arithmetic), the rest in
// geluForwardGo.
func geluForward32(x, y, e []float32) {
	y = y[:len(x)]
	if e != nil {
		e = e[:len(x)]
	}
	n := 0
	if b := len(x) / 32; haveAVX2 && haveAVX512 && b > 0 {
		var ep *float32
		if e != nil {
			ep = &e[0]
		}
		geluForwardAVX512(&x[0], &y[0], ep, b)
		n = 32 * b
		x, y = x[n:], y[n:]
		if e != nil {
			e = e[n:]
		}
		n = 0
	}
	if b := len(x) / 8; haveAVX2 && b > 0 {
		var ep *float32
		if e != nil {
			ep = &e[0]
		}
		geluForwardAVX2(&x[0], &y[0], ep, b)
		n = 8 * b
		if e != nil {
			e = e[n:]
		}
	}
	geluForwardGo(x[n:], y[n:], e)
}

func geluForwardGo(x, y, e []float32) {
	y = y[:len(x)]
	if e != nil {
		e = e[:len(x)]
	}
	for i, x0 := range x {
		v := x0
		if v < -geluClamp {
			v = -geluClamp
		}
		ei := exp32(-2 * geluC * (v + geluA*v*v*v))
		yi := v / (1 + ei)
		if x0 <= geluZero {
			yi = 0
		}
		y[i] = flush(yi)
		if e != nil {
			e[i] = ei
		}
	}
}

// geluBackward32 writes dx = dy·gelu'(x). With s = σ(2u) = 1/(1 + e) and
// e = e^(−2u), gelu'(x) = s + x·s(1−s)·2u′ = s·(1 + x·(e·s)·2u′), where
// e·s = 1−s without cancellation and u′ = √(2/π)(1 + 3·0.044715x²). If e
// is nil it is recomputed; otherwise it holds the e of geluForward32, as
// the MLP keeps it, and the backward pass needs no exponential. (Keeping s
// instead would lose 1−s to cancellation for x ≳ 4.) gelu' is 0 for
// x ≤ −9 (geluZero), and a subnormal dx is flushed to zero.
func geluBackward32(x, e, dy, dx []float32) {
	dy = dy[:len(x)]
	dx = dx[:len(x)]
	if e != nil {
		e = e[:len(x)]
	}
	n := 0
	if b := len(x) / 8; haveAVX2 && b > 0 {
		var ep *float32
		if e != nil {
			ep = &e[0]
		}
		geluBackwardAVX2(&x[0], ep, &dy[0], &dx[0], b)
		n = 8 * b
		if e != nil {
			e = e[n:]
		}
	}
	geluBackwardGo(x[n:], e, dy[n:], dx[n:])
}

func geluBackwardGo(x, e, dy, dx []float32) {
	dy = dy[:len(x)]
	dx = dx[:len(x)]
	if e != nil {
		e = e[:len(x)]
	}
	for i, x0 := range x {
		v := min(max(x0, -geluClamp), geluClamp)
		var ei float32
		if e != nil {
			ei = e[i]
		} else {
			ei = exp32(-2 * geluC * (v + geluA*v*v*v))
		}
		s := 1 / (1 + ei)
		du2 := 2 * geluC * (1 + 3*geluA*v*v)
		d := s * (1 + v*(ei*s)*du2)
		if x0 <= geluZero {
			d = 0
		}
		dx[i] = flush(dy[i] * d)
	}
}

// TanhForward writes y = tanh(x). y may alias x. In float32 it uses
// tanh32 (relative error below 2e-7 against math.Tanh), in AVX2 on amd64.
func TanhForward[T Float](x, y []T) {
	checkLen("TanhForward", x, y)
	if is32[T]() {
		x32, y32 := as32(x), as32(y)
		n := 0
		if b := len(x) / 8; haveAVX2 && b > 0 {
			tanhAVX2(&x32[0], &y32[0], b)
			n = 8 * b
		}
		y32 = y32[n:len(x32)]
		for i, v := range x32[n:] {
			y32[i] = tanh32(v)
		}
		return
	}
	x64, y64 := as64(x), as64(y)
	for i, v := range x64 {
		y64[i] = math.Tanh(v)
	}
}

// TanhBackward writes dx = dy·(1 − y²) for the output y of TanhForward. dx
// may alias dy.
func TanhBackward[T Float](y, dy, dx []T) {
	checkLen("TanhBackward", y, dy)
	checkLen("TanhBackward", y, dx)
	dy = dy[:len(y)]
	dx = dx[:len(y)]
	for i, v := range y {
		dx[i] = flush(dy[i] * (1 - v*v))
	}
}

// LeakyReLUForward writes y = x for x ≥ 0 and slope·x otherwise, as
// jax.nn.leaky_relu. y may alias x.
func LeakyReLUForward[T Float](slope T, x, y []T) {
	checkLen("LeakyReLUForward", x, y)
	y = y[:len(x)]
	for i, v := range x {
		if v < 0 {
			v *= slope
		}
		y[i] = flush(v)
	}
}

// LeakyReLUBackward writes dx = dy for x ≥ 0 and slope·dy otherwise (the
// derivative at 0 is 1, as JAX's). dx may alias dy.
func LeakyReLUBackward[T Float](slope T, x, dy, dx []T) {
	checkLen("LeakyReLUBackward", x, dy)
	checkLen("LeakyReLUBackward", x, dx)
	dy = dy[:len(x)]
	dx = dx[:len(x)]
	for i, v := range x {
		d := dy[i]
		if v < 0 {
			d *= slope
		}
		dx[i] = flush(d)
	}
}

// Constants of exp32 (Cephes expf): ln 2 split into a part exact in
// float32 and a correction, and 1.5·2²³, which rounds a float32 in
// (−2²², 2²²) to an integer when added to it.
const (
	log2e     = 1.44269504088896341
	ln2Hi     = 0.693359375
	ln2Lo     = -2.12194440e-4
	roundBias = 12582912
)

// exp32 returns e^z in float32 for z clamped to [−87, 87] (so 2ⁿ stays a
// normal number and callers never see 0, Inf or NaN). It reduces
// z = n·ln2 + r with |r| ≤ ln2/2 and evaluates Cephes expf's degree-7
// polynomial: relative error below 1e-7 (measured 8.3e-8, about 1.4 ulp;
// TestExp32).
func exp32(z float32) float32 {
	if z < -87 {
		z = -87
	}
	if z > 87 {
		z = 87
	}
	t := z*log2e + roundBias
	n := int32(math.Float32bits(t) - math.Float32bits(roundBias))
	k := t - roundBias
	r := z - k*ln2Hi - k*ln2Lo
	p := ((((float32(1.9875691500e-4)*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// tanh32 returns tanh(x) in float32 as Cephes tanhf: an odd polynomial for
// |x| ≤ 0.625 and 1 − 2/(e^(2|x|) + 1) beyond; relative error below 2e-7
// (measured 1.3e-7; TestTanh32).
func tanh32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a > 0.625 {
		z := 1 - 2/(exp32(2*a)+1)
		if x < 0 {
			z = -z
		}
		return z
	}
	s := x * x
	return ((((float32(-5.70498872745e-3)*s+2.06390887954e-2)*s-5.37397155531e-2)*s+1.33314422036e-1)*s-3.33332819422e-1)*s*x + x
}

// flush returns x, or a zero of x's sign if x is subnormal: the
// flush-to-zero of the floating-point unit, done in software so that it
// holds on every thread and in every build (see the package doc,
// Subnormals). It reads x's bits, so a subnormal costs no microcode assist.
// The AVX2 kernels do the same with the FLUSH macro.
func flush[T Float](x T) T {
	if is32[T]() {
		b := math.Float32bits(float32(x))
		if b&0x7fffffff <= 0x007fffff {
			return T(math.Float32frombits(b & 0x80000000))
		}
		return x
	}
	b := math.Float64bits(float64(x))
	if b&0x7fffffffffffffff <= 0x000fffffffffffff {
		return T(math.Float64frombits(b & 0x8000000000000000))
	}
	return x
}
