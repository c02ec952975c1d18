package figure

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Entry is one item of a figure-wide legend: a label and the thumbnails
// drawn before it (see SeriesLegend and CategoryLegend).
type Entry struct {
	Label  string
	Thumbs []plot.Thumbnailer
}

// SetLegend gives the figure one legend, drawn in rows above the panels,
// and removes the panels' own legends (as matplotlib's fig.legend with
// the axes legends left out).
func (f *Figure) SetLegend(entries []Entry) {
	f.Legend = entries
	for _, row := range f.Panels {
		for _, p := range row {
			if p != nil {
				clearLegend(p)
			}
		}
	}
}

// KeepLegend keeps the legend of panel (r, c) and removes the legends of
// all other panels: one legend for the figure, inside a panel.
func (f *Figure) KeepLegend(r, c int) {
	f.KeepLegends(func(i, j int) bool { return i == r && j == c })
}

// KeepLegends keeps the legends of the panels (r, c) for which keep is
// true and removes the others: one legend per row, say, when the rows plot
// different series.
func (f *Figure) KeepLegends(keep func(r, c int) bool) {
	for i, row := range f.Panels {
		for j, p := range row {
			if p != nil && !keep(i, j) {
				clearLegend(p)
			}
		}
	}
}

// clearLegend empties a panel's legend, keeping its style.
func clearLegend(p *plot.Plot) {
	l := plot.NewLegend()
	l.TextStyle = p.Legend.TextStyle
	l.Padding = p.Legend.Padding
	l.Top, l.Left = p.Legend.Top, p.Legend.Left
	l.XOffs, l.YOffs = p.Legend.XOffs, p.Legend.YOffs
	l.YPosition = p.Legend.YPosition
	l.ThumbnailWidth = p.Legend.ThumbnailWidth
	p.Legend = l
}

// ShareX gives panels one x range, the union of their data ranges (call it
// after adding the data): per column if byColumn, else across the whole
// figure. As with matplotlib's sharex, only the bottom row keeps its x
// label and tick labels.
func (f *Figure) ShareX(byColumn bool) {
	f.share(func(p *plot.Plot) *plot.Axis { return &p.X }, byColumn,
		func(r, c int) int { return c },
		func(r, c int) bool { return r == len(f.Panels)-1 }, false)
}

// ShareY gives panels one y range, the union of their data ranges (call
// it after adding the data): per row if byRow, else across the whole
// figure. As with matplotlib's sharey, only the first column keeps its y
// label and tick labels.
func (f *Figure) ShareY(byRow bool) {
	f.share(func(p *plot.Plot) *plot.Axis { return &p.Y }, byRow,
		func(r, c int) int { return r },
		func(r, c int) bool { return c == 0 }, true)
}

// share unions the ranges of one axis of the panels, grouped by line(r, c)
// when perLine and all together otherwise, and hides the labels of the
// panels for which keep is false (keeping their height when space).
func (f *Figure) share(axis func(*plot.Plot) *plot.Axis, perLine bool, line func(r, c int) int, keep func(r, c int) bool, space bool) {
	groups := map[int][]*plot.Axis{}
	for r, row := range f.Panels {
		for c, p := range row {
			if p == nil {
				continue
			}
			g := 0
			if perLine {
				g = line(r, c)
			}
			groups[g] = append(groups[g], axis(p))
			if !keep(r, c) {
				hideLabels(axis(p), space)
			}
		}
	}
	for _, g := range groups {
		unionRange(g)
	}
}

// unionRange sets every axis of the group to the union of their ranges;
// axes without data (an infinite or inverted range) take part only in
// receiving it.
func unionRange(group []*plot.Axis) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, a := range group {
		if a == nil || math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) || a.Min > a.Max {
			continue
		}
		lo, hi = math.Min(lo, a.Min), math.Max(hi, a.Max)
	}
	if lo > hi {
		return
	}
	for _, a := range group {
		if a != nil {
			a.Min, a.Max = lo, hi
		}
	}
}

// hideLabels removes an axis label and the text of its tick labels,
// keeping the tick marks (and, with space, the labels' height).
func hideLabels(a *plot.Axis, space bool) {
	a.Label.Text = ""
	if _, ok := a.Tick.Marker.(unlabelled); !ok {
		a.Tick.Marker = unlabelled{Ticker: a.Tick.Marker, space: space}
	}
}

// unlabelled is a ticker whose labels are blanked. With space set, a
// labelled tick keeps a one-space label: a y axis so treated keeps the
// vertical margins of its neighbours, and panel titles in a row line up.
type unlabelled struct {
	plot.Ticker
	space bool
}

// Ticks implements plot.Ticker.
func (u unlabelled) Ticks(min, max float64) []plot.Tick {
	ticks := u.Ticker.Ticks(min, max)
	out := make([]plot.Tick, len(ticks))
	for i, t := range ticks {
		out[i] = plot.Tick{Value: t.Value}
		if t.Label != "" && u.space {
			out[i].Label = " "
		}
	}
	return out
}

// Figure legend layout, in points.
const (
	legendThumb = 16 // thumbnail width
	legendGap   = 3  // between thumbnail and label
	legendSep   = 12 // between entries
	legendPad   = 3  // above and below the legend
)

func legendStyle() draw.TextStyle {
	return draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, TickSize), Handler: plot.DefaultTextHandler}
}

func legendRowHeight() vg.Length { return TickSize * 1.5 }

// legendRows packs the entries greedily into rows no wider than w.
func legendRows(entries []Entry, w vg.Length) [][]Entry {
	sty := legendStyle()
	var rows [][]Entry
	var row []Entry
	var used vg.Length
	for _, e := range entries {
		ew := legendThumb + legendGap + sty.Width(e.Label)
		if len(row) > 0 && used+legendSep+ew > w {
			rows = append(rows, row)
			row, used = nil, 0
		}
		if len(row) > 0 {
			used += legendSep
		}
		row = append(row, e)
		used += ew
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// legendHeight is the height a figure legend of width w takes.
func legendHeight(entries []Entry, w vg.Length) vg.Length {
	if len(entries) == 0 {
		return 0
	}
	return vg.Length(len(legendRows(entries, w-8)))*legendRowHeight() + 2*legendPad
}

// drawLegend draws the entries in centred rows at the top of dc and
// returns the height used.
func drawLegend(dc draw.Canvas, entries []Entry) vg.Length {
	w := dc.Max.X - dc.Min.X
	rows := legendRows(entries, w-8)
	sty := legendStyle()
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	rh := legendRowHeight()
	y := dc.Max.Y - legendPad - rh/2
	for _, row := range rows {
		var rw vg.Length
		for k, e := range row {
			if k > 0 {
				rw += legendSep
			}
			rw += legendThumb + legendGap + sty.Width(e.Label)
		}
		x := dc.Min.X + (w-rw)/2
		for _, e := range row {
			tc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - rh/2},
				Max: vg.Point{X: x + legendThumb, Y: y + rh/2},
			}}
			for _, t := range e.Thumbs {
				t.Thumbnail(&tc)
			}
			x += legendThumb + legendGap
			dc.FillText(sty, vg.Point{X: x, Y: y}, e.Label)
			x += sty.Width(e.Label) + legendSep
		}
		y -= rh
	}
	return legendHeight(entries, w)
}
