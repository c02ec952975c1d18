package figure

import (
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// gonum/plot v0.17 sizes a centred axis label by placing its glyph box at
// Norm((min+max)/2), the arithmetic midpoint, which on a log axis sits near
// the top (or right) end: a long label then reserves a wide empty margin
// there. Render works around it: for the duration of the drawing, a log
// axis's centred label becomes blanks of the same height (so that the axis
// keeps its size), and the real label is drawn where gonum draws it, centred
// on the data area.

// isLog reports whether an axis scale is logarithmic, inverted or not.
func isLog(s plot.Normalizer) bool {
	switch s := s.(type) {
	case plot.LogScale:
		return true
	case plot.InvertedScale:
		return isLog(s.Normalizer)
	}
	return false
}

// blank returns spaces with as many lines as text.
func blank(text string) string {
	return strings.Repeat(" \n", strings.Count(text, "\n")) + " "
}

// centreLogLabels blanks the centred labels of p's log axes and returns a
// function that draws them on the canvas p was drawn on and restores p.
// It returns nil when p needs no help.
func centreLogLabels(p *plot.Plot) func(c draw.Canvas) {
	fixX := isLog(p.X.Scale) && p.X.Label.Text != "" && p.X.Label.Position == draw.PosCenter
	fixY := isLog(p.Y.Scale) && p.Y.Label.Text != "" && p.Y.Label.Position == draw.PosCenter
	if !fixX && !fixY {
		return nil
	}
	xText, yText := p.X.Label.Text, p.Y.Label.Text
	if fixX {
		p.X.Label.Text = blank(xText)
	}
	if fixY {
		p.Y.Label.Text = blank(yText)
	}
	return func(c draw.Canvas) {
		dc := p.DataCanvas(c)
		if fixX {
			sty := p.X.Label.TextStyle
			descent := sty.FontExtents().Descent
			c.FillText(sty, vg.Point{X: dc.Center().X, Y: c.Min.Y + descent}, xText)
			p.X.Label.Text = xText
		}
		if fixY {
			sty := p.Y.Label.TextStyle
			sty.Rotation += math.Pi / 2
			x := c.Min.X + p.Y.Label.TextStyle.Height(yText) - sty.FontExtents().Descent
			c.FillText(sty, vg.Point{X: x, Y: dc.Center().Y}, yText)
			p.Y.Label.Text = yText
		}
	}
}
