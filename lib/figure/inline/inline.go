// Package inline shows figures in a GoNB notebook cell. It is the only part
// of the figure layer that knows about the notebook front end; outside a
// GoNB kernel its functions do nothing and return nil, so code that calls
// them also runs from scripts and tests.
package inline

import (
	"github.com/janpfeifer/gonb/gonbui"

	"github.com/paperlab/paperlab/lib/figure"
)

// InNotebook reports whether the program runs as a GoNB cell.
func InNotebook() bool { return gonbui.IsNotebook }

// Show displays f as a PNG image in the cell's output (PNG travels well:
// it renders in Jupyter, nbviewer and GitHub alike).
func Show(f *figure.Figure) error {
	return show(f, "png", gonbui.DisplayPNG)
}

// ShowSVG displays f as SVG (sent by GoNB as HTML).
func ShowSVG(f *figure.Figure) error {
	return show(f, "svg", func(b []byte) { gonbui.DisplaySVG(string(b)) })
}

func show(f *figure.Figure, format string, display func([]byte)) error {
	if !InNotebook() {
		return nil
	}
	b, err := f.Render(format)
	if err != nil {
		return err
	}
	display(b)
	// Wait until the kernel has the image: a cell that exits right after
	// displaying can otherwise lose it, and later prints keep their order.
	gonbui.Sync()
	return nil
}
