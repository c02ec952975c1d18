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
	for i := range out {
		out[i] = dot(a.Data[i*c:(i+1)*c], b.Data[i*c:(i+1)*c])
	}
}

// dot returns ⟨x, y⟩ with four partial sums (len(y) ≥ len(x)).
func dot[T Float](x, y []T) T {
	y = y[:len(x)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
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
	c := a.Cols
	if da.Data != nil {
		da.check("RowDotsBackward", "da")
		for i, g := range dout {
			axpy(g, b.Data[i*c:(i+1)*c], da.Data[i*c:(i+1)*c])
		}
	}
	if db.Data != nil {
		db.check("RowDotsBackward", "db")
		for i, g := range dout {
			axpy(g, a.Data[i*c:(i+1)*c], db.Data[i*c:(i+1)*c])
		}
	}
}

// axpy adds alpha·x into y (len(y) ≥ len(x)).
func axpy[T Float](alpha T, x, y []T) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] += alpha * v
	}
}
