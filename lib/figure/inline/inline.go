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
	if !InNotebook() {
		return nil
	}
	b, err := f.Render("png")
	if err != nil {
		return err
	}
	gonbui.DisplayPNG(b)
	return nil
}

// ShowSVG displays f as SVG (sent by GoNB as HTML).
func ShowSVG(f *figure.Figure) error {
	if !InNotebook() {
		return nil
	}
	b, err := f.Render("svg")
	if err != nil {
		return err
	}
	gonbui.DisplaySVG(string(b))
	return nil
}
