package nn

import "fmt"

func checkGather[T Float](op string, table Matrix[T], idx []int, rows Matrix[T]) {
	if rows.Rows != len(idx) || rows.Cols != table.Cols {
		panic(fmt.Sprintf("nn: %s: %d indices into a %s table, rows %s", op, len(idx), table.shape(), rows.shape()))
	}
	rows.check(op, "rows")
	table.check(op, "table")
	for _, k := range idx {
		if uint(k) >= uint(table.Rows) {
			panic(fmt.Sprintf("nn: %s: index %d out of range for a %s table", op, k, table.shape()))
		}
	}
}

// GatherRows writes dst.Row(i) = src.Row(idx[i]) for every i: a table
// lookup (jnp.take along axis 0). dst is len(idx)×src.Cols.
func GatherRows[T Float](src Matrix[T], idx []int, dst Matrix[T]) {
	checkGather("GatherRows", src, idx, dst)
	c := src.Cols
	for i, k := range idx {
		copy(dst.Data[i*c:(i+1)*c], src.Data[k*c:(k+1)*c])
	}
}

// ScatterAddRows adds dsrc.Row(i) into ddst.Row(idx[i]) for every i: the
// gradient of GatherRows, with ddst the gradient of its table. Repeated
// indices accumulate.
func ScatterAddRows[T Float](dsrc Matrix[T], idx []int, ddst Matrix[T]) {
	checkGather("ScatterAddRows", ddst, idx, dsrc)
	c := ddst.Cols
	if haveAVX2 && is32[T]() && c > 0 && c%8 == 0 && len(idx) > 0 {
		scatterAddAVX2(&as32(dsrc.Data)[0], &as32(ddst.Data)[0], &idx[0], len(idx), c)
		return
	}
	for i, k := range idx {
		s := dsrc.Data[i*c : (i+1)*c]
		d := ddst.Data[k*c : (k+1)*c]
		d = d[:len(s)]
		for j, v := range s {
			d[j] += v
		}
	}
}

// RowDots writes out[i] = ⟨a.Row(i), b.Row(i)⟩ for a and b of the same
// shape (the batched dot products of specs/pitot.md 2.4).
func RowDots[T Float](a, b Matrix[T], out []T) {
	if a.Rows != b.Rows || a.Cols != b.Cols || len(out) != a.Rows {
		panic(fmt.Sprintf("nn: RowDots: a %s, b %s, out %d", a.shape(), b.shape(), len(out)))
	}
	a.check("RowDots", "a")
	b.check("RowDots", "b")
	c := a.Cols
	if haveAVX2 && is32[T]() && c > 0 && c%8 == 0 && len(out) > 0 {
		rowDotsAVX2(&as32(a.Data)[0], &as32(b.Data)[0], &as32(out)[0], len(out), c)
		return
	}
	for i := range out {
		out[i] = dot(a.Data[i*c:(i+1)*c], b.Data[i*c:(i+1)*c])
	}
}

// dot returns ⟨x, y⟩ (len(y) ≥ len(x)) summed in the order of the AVX2
// kernel: eight lanes, lane l taking the products i ≡ l (mod 8) of the
// leading multiple of 8, reduced as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)),
// then the remaining products in order.
func dot[T Float](x, y []T) T {
	y = y[:len(x)]
	var s0, s1, s2, s3, s4, s5, s6, s7 T
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		x, y := x[i:i+8:i+8], y[i:i+8:i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	s := ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))
	for i := n; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// RowDotsBackward adds dout[i]·b.Row(i) into da.Row(i) and dout[i]·a.Row(i)
// into db.Row(i), for the inputs a and b of RowDots and dout = ∂L/∂out. A
// gradient whose Data is nil is skipped. da may be the same matrix as db
// (as when a and b are).
func RowDotsBackward[T Float](a, b Matrix[T], dout []T, da, db Matrix[T]) {
	if a.Rows != b.Rows || a.Cols != b.Cols || len(dout) != a.Rows ||
		(da.Data != nil && (da.Rows != a.Rows || da.Cols != a.Cols)) ||
		(db.Data != nil && (db.Rows != a.Rows || db.Cols != a.Cols)) {
		panic(fmt.Sprintf("nn: RowDotsBackward: a %s, b %s, dout %d, da %s, db %s", a.shape(), b.shape(), len(dout), da.shape(), db.shape()))
	}
	a.check("RowDotsBackward", "a")
	b.check("RowDotsBackward", "b")
	if da.Data != nil {
		da.check("RowDotsBackward", "da")
		rowAxpy(dout, b, da)
	}
	if db.Data != nil {
		db.check("RowDotsBackward", "db")
		rowAxpy(dout, a, db)
	}
}

// rowAxpy adds alpha[i]·x.Row(i) into y.Row(i).
func rowAxpy[T Float](alpha []T, x, y Matrix[T]) {
	c := x.Cols
	if haveAVX2 && is32[T]() && c > 0 && c%8 == 0 && len(alpha) > 0 {
		rowAxpyAVX2(&as32(alpha)[0], &as32(x.Data)[0], &as32(y.Data)[0], len(alpha), c)
		return
	}
	for i, g := range alpha {
		axpy(g, x.Data[i*c:(i+1)*c], y.Data[i*c:(i+1)*c])
	}
}

// axpy adds alpha·x into y (len(y) ≥ len(x)).
func axpy[T Float](alpha T, x, y []T) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] += alpha * v
	}
}

// Dot returns ⟨x, y⟩ (len(y) ≥ len(x)), with the AVX2 kernel for float32
// vectors whose length is a multiple of 8.
func Dot[T Float](x, y []T) T {
	n := len(x)
	if haveAVX2 && is32[T]() && n > 0 && n%8 == 0 {
		var out [1]float32
		rowDotsAVX2(&as32(x)[0], &as32(y[:n])[0], &out[0], 1, n)
		return T(out[0])
	}
	return dot(x, y)
}

// Axpy adds alpha·x into y (len(y) ≥ len(x)), with the AVX2 kernel for
// float32 vectors whose length is a multiple of 8.
func Axpy[T Float](alpha T, x, y []T) {
	n := len(x)
	if haveAVX2 && is32[T]() && n > 0 && n%8 == 0 {
		a := [1]float32{float32(alpha)}
		rowAxpyAVX2(&a[0], &as32(x)[0], &as32(y[:n])[0], 1, n)
		return
	}
	axpy(alpha, x, y)
}

// DotRows writes into out[i] the dot product of x with row i of m, a
// row-major matrix of len(out) rows and len(x) columns: the scores of one
// embedding against a block of embeddings (Pitot's S and G terms).
func DotRows[T Float](x, m, out []T) {
	c, rows := len(x), len(out)
	m = m[:rows*c]
	if haveAVX2 && is32[T]() && c > 0 && c%8 == 0 && rows > 0 {
		dotsStridedAVX2(&as32(x)[0], &as32(m)[0], &as32(out)[0], rows, c, 0, c)
		return
	}
	for i := range out {
		out[i] = dot(x, m[i*c:(i+1)*c])
	}
}

// AxpyRows adds Σ_i c[i]·(row i of m) into y, m a row-major matrix of
// len(c) rows and len(y) columns, rows added in order.
func AxpyRows[T Float](c, m, y []T) {
	n, rows := len(y), len(c)
	m = m[:rows*n]
	if haveAVX2 && is32[T]() && n > 0 && n%8 == 0 && rows > 0 {
		axpysStridedAVX2(&as32(c)[0], &as32(m)[0], &as32(y)[0], rows, n, n, 0)
		return
	}
	for i, a := range c {
		axpy(a, m[i*n:(i+1)*n], y)
	}
}

// OuterAdd adds c[i]·x into row i of m, a row-major matrix of len(c) rows
// and len(x) columns: the rank-one update c xᵀ.
func OuterAdd[T Float](c, x, m []T) {
	n, rows := len(x), len(c)
	m = m[:rows*n]
	if haveAVX2 && is32[T]() && n > 0 && n%8 == 0 && rows > 0 {
		axpysStridedAVX2(&as32(c)[0], &as32(x)[0], &as32(m)[0], rows, n, 0, n)
		return
	}
	for i, a := range c {
		axpy(a, x, m[i*n:(i+1)*n])
	}
}
