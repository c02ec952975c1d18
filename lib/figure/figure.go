// Package figure draws paper figures with gonum/plot in one house style and
// writes them to figures/<paper>/<name>.{svg,pdf,png}.
//
// A Figure is a grid of panels (each a *plot.Plot, so anything gonum/plot
// can draw goes in) with an optional note line at the bottom that says how
// the figure was made (data, profile, counts). The package never displays
// anything: notebooks show figures through the sibling package
// figure/inline, which is the only part that knows about GoNB.
//
// SVG and PNG output are byte-for-byte deterministic; PDF output embeds its
// creation date, so compare PDFs by eye, never by bytes.
package figure

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"github.com/paperlab/paperlab/lib/repo"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is the house colour cycle: the Okabe-Ito colour-blind-safe set.
var Palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	color.RGBA{0xF0, 0xE4, 0x42, 0xff}, // yellow
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
}

// Color returns the i-th palette colour, cycling.
func Color(i int) color.Color { return Palette[i%len(Palette)] }

// House style sizes.
const (
	TitleSize = 10 // panel titles, points
	LabelSize = 9  // axis labels
	TickSize  = 8  // tick labels and legends
	NoteSize  = 7  // the note line under the figure
)

// PanelWidth and PanelHeight are the default size of one panel.
var (
	PanelWidth  = 3.2 * vg.Inch
	PanelHeight = 2.4 * vg.Inch
)

// NewPlot returns an empty panel in the house style.
func NewPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = TitleSize
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = LabelSize
		a.Tick.Label.Font.Size = TickSize
		a.Padding = 2
	}
	p.Legend.TextStyle.Font.Size = TickSize
	p.Legend.Top = true
	return p
}

// LogY puts a panel's y axis on a log scale with powers-of-ten ticks.
func LogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
}

// Figure is a grid of panels with an identity (paper and name) that
// decides where it is saved.
type Figure struct {
	Paper  string // e.g. "pitot"; the subdirectory of figures/
	Name   string // file name without extension, e.g. "interference"
	Panels [][]*plot.Plot
	Width  vg.Length // zero: PanelWidth per column
	Height vg.Length // zero: PanelHeight per row
	// Note is printed in small type under the panels: the data, profile
	// and counts the figure was made from.
	Note string
	// Legend, when not empty, is one legend for the whole figure, drawn
	// in centred rows above the panels (see SetLegend).
	Legend []Entry
}

// New returns a figure with rows x cols panels in the house style.
func New(paper, name string, rows, cols int) *Figure {
	f := &Figure{Paper: paper, Name: name}
	for range rows {
		row := make([]*plot.Plot, cols)
		for j := range row {
			row[j] = NewPlot("", "", "")
		}
		f.Panels = append(f.Panels, row)
	}
	return f
}

// Panel returns the panel at row r, column c.
func (f *Figure) Panel(r, c int) *plot.Plot { return f.Panels[r][c] }

func (f *Figure) size() (vg.Length, vg.Length) {
	w, h := f.Width, f.Height
	if w == 0 && len(f.Panels) > 0 {
		w = PanelWidth * vg.Length(len(f.Panels[0]))
	}
	if h == 0 {
		h = PanelHeight * vg.Length(len(f.Panels))
		if f.Note != "" {
			h += noteHeight(f.Note)
		}
		h += legendHeight(f.Legend, w)
	}
	return w, h
}

func noteHeight(note string) vg.Length {
	return vg.Length(strings.Count(note, "\n")+1)*NoteSize*1.3 + 6
}

// Formats lists the output formats Render accepts.
var Formats = []string{"svg", "pdf", "png"}

// Render draws the figure in format "svg", "pdf" or "png" (192 dpi).
func (f *Figure) Render(format string) ([]byte, error) {
	if len(f.Panels) == 0 || len(f.Panels[0]) == 0 {
		return nil, fmt.Errorf("figure %s/%s: no panels", f.Paper, f.Name)
	}
	w, h := f.size()
	var c vg.CanvasWriterTo
	if format == "png" {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(192))}
	} else {
		var err error
		if c, err = draw.NewFormattedCanvas(w, h, format); err != nil {
			return nil, fmt.Errorf("figure %s/%s: %w", f.Paper, f.Name, err)
		}
	}
	dc := draw.New(c)
	if f.Note != "" {
		nh := noteHeight(f.Note)
		sty := draw.TextStyle{Color: color.Gray{0x55}, Font: font.From(plot.DefaultFont, NoteSize), Handler: plot.DefaultTextHandler}
		sty.XAlign = draw.XLeft
		sty.YAlign = draw.YBottom
		dc.FillText(sty, vg.Point{X: dc.Min.X + 4, Y: dc.Min.Y + 3}, f.Note)
		dc.Min.Y += nh
	}
	if len(f.Legend) > 0 {
		dc.Max.Y -= drawLegend(dc, f.Legend)
	}
	tiles := draw.Tiles{Rows: len(f.Panels), Cols: len(f.Panels[0]), PadX: 4, PadY: 4, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 6}
	fixes := make([][]func(draw.Canvas), len(f.Panels))
	for i, row := range f.Panels {
		fixes[i] = make([]func(draw.Canvas), len(row))
		for j, p := range row {
			if p != nil {
				fixes[i][j] = centreLogLabels(p)
			}
		}
	}
	canvases := plot.Align(f.Panels, tiles, dc)
	for i, row := range f.Panels {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
			if fix := fixes[i][j]; fix != nil {
				fix(canvases[i][j])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("figure %s/%s: %w", f.Paper, f.Name, err)
	}
	return buf.Bytes(), nil
}

// Dir returns the figures/ directory of the checkout.
func Dir() (string, error) { return repo.Path("figures") }

// Save writes the figure to dir/<paper>/<name>.<format> for each format
// (default svg and pdf), atomically, and returns the paths written. An
// empty dir means the checkout's figures/.
func (f *Figure) Save(dir string, formats ...string) ([]string, error) {
	if dir == "" {
		var err error
		if dir, err = Dir(); err != nil {
			return nil, err
		}
	}
	if len(formats) == 0 {
		formats = []string{"svg", "pdf"}
	}
	out := filepath.Join(dir, f.Paper)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, format := range formats {
		b, err := f.Render(format)
		if err != nil {
			return paths, err
		}
		path := filepath.Join(out, f.Name+"."+format)
		if err := repo.WriteFile(path, b); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
