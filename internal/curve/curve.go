// Package curve is what is left of the examples' plot helpers, now the
// public package github.com/adagrad-go/adagrad/lossplot: the palette that
// examples/bench still takes from here. Once bench imports lossplot
// (curve.Color becomes lossplot.Color), this package can go.
package curve

import (
	"image/color"

	"github.com/adagrad-go/adagrad/lossplot"
)

// Color is lossplot.Color: the i-th colour of the plots' palette.
func Color(i int) color.Color { return lossplot.Color(i) }
