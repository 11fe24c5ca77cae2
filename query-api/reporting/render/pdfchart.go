package render

import (
	"math"
	"strconv"
)

// Chart layout (millimetres, points).
const (
	chartFontSize = 7.0
	legendRowH    = 4.5
	xLabelH       = 5.0
	yLabelGap     = 2.0
	markerMaxN    = 60 // line charts mark their points up to this many
)

// axisScale is a "nice" value axis: from lo to hi in steps of 1, 2 or 5 × 10^k.
type axisScale struct{ lo, hi, step float64 }

// niceScale covers [min(0, lo), max(0, hi)] with about five steps.
func niceScale(lo, hi float64) axisScale {
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if hi-lo < 1e-12 {
		hi = lo + 1
	}
	rough := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(rough)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= rough {
			step = m * mag
			break
		}
	}
	return axisScale{lo: math.Floor(lo/step+1e-9) * step, hi: math.Ceil(hi/step-1e-9) * step, step: step}
}

// ticks are the scale's tick values, lo to hi.
func (a axisScale) ticks() []float64 {
	n := int(math.Round((a.hi - a.lo) / a.step))
	out := make([]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		out = append(out, a.lo+float64(i)*a.step)
	}
	return out
}

// label writes a tick value with as many decimals as the step needs.
func (a axisScale) label(v float64) string {
	if a.step >= 1 {
		return formatInt(int64(math.Round(v)))
	}
	dec := int(math.Ceil(-math.Log10(a.step) - 1e-9))
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// thinChart keeps at most MaxChartPoints points (every k-th, and the last) and MaxChartSeries
// series: a chart is read for its shape, and a PDF page holds a few hundred points at most.
func thinChart(c *Chart) (x []string, series []Series) {
	series = c.Series
	if len(series) > MaxChartSeries {
		series = series[:MaxChartSeries]
	}
	n := len(c.X)
	if n <= MaxChartPoints {
		return c.X, series
	}
	k := (n + MaxChartPoints - 1) / MaxChartPoints
	var idx []int
	for i := 0; i < n; i += k {
		idx = append(idx, i)
	}
	if idx[len(idx)-1] != n-1 {
		idx = append(idx, n-1)
	}
	x = make([]string, len(idx))
	for j, i := range idx {
		x[j] = c.X[i]
	}
	out := make([]Series, len(series))
	for s := range series {
		out[s].Name = series[s].Name
		out[s].Values = make([]float64, len(idx))
		for j, i := range idx {
			out[s].Values[j] = value(series[s].Values, i)
		}
	}
	return x, out
}

// value is v[i], 0 past the end or for NaN (a builder's short series draws as zeros).
func value(v []float64, i int) float64 {
	if i >= len(v) || math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
		return 0
	}
	return v[i]
}

// valueRange is the span the chart must show: stacked bars add up their series.
func valueRange(kind ChartKind, n int, series []Series) (lo, hi float64) {
	for i := 0; i < n; i++ {
		var pos, neg float64
		for _, s := range series {
			v := value(s.Values, i)
			if kind == StackedBars {
				if v > 0 {
					pos += v
				} else {
					neg += v
				}
				continue
			}
			hi, lo = math.Max(hi, v), math.Min(lo, v)
		}
		hi, lo = math.Max(hi, pos), math.Min(lo, neg)
	}
	return lo, hi
}

// chart draws c in the box (x, y, w, h): y-axis tick labels on the left, gridlines at each
// tick, x labels below (thinned so they never overlap), the legend under them.
func (p *pdfDoc) chart(c *Chart, x, y, w, h float64) {
	pdf := p.pdf
	xs, series := thinChart(c)
	n := len(xs)

	// Legend: swatch and name per series, wrapped into rows.
	pdf.SetFont(fontFamily, "", chartFontSize)
	type entry struct {
		name   string
		color  rgb
		lx, ly float64
	}
	var legend []entry
	lx, rows := 0.0, 1
	for i, s := range series {
		name := p.fit(p.text(s.Name), w/2)
		ew := 4 + pdf.GetStringWidth(name) + 4
		if lx > 0 && lx+ew > w {
			lx, rows = 0, rows+1
		}
		legend = append(legend, entry{name, seriesColor(p.d, i, s.Name), lx, float64(rows - 1)})
		lx += ew
	}
	legendH := float64(rows) * legendRowH
	if len(series) == 0 {
		legendH = 0
	}

	top := y + 2
	if c.YLabel != "" {
		p.color(muted)
		pdf.SetXY(x, y)
		pdf.CellFormat(w, 4, p.fit(p.text(c.YLabel), w), "", 0, "L", false, 0, "")
		top = y + 6
	}
	lo, hi := valueRange(c.Kind, n, series)
	sc := niceScale(lo, hi)
	ticks := sc.ticks()
	labelW := 0.0
	for _, t := range ticks {
		labelW = math.Max(labelW, pdf.GetStringWidth(sc.label(t)))
	}
	px, pw := x+labelW+yLabelGap+1, w-labelW-yLabelGap-1
	py, ph := top, h-(top-y)-xLabelH-legendH-2
	yOf := func(v float64) float64 { return py + ph - (v-sc.lo)/(sc.hi-sc.lo)*ph }

	// Gridlines and y tick labels.
	pdf.SetLineWidth(0.15)
	p.draw(grid)
	p.color(muted)
	for _, t := range ticks {
		ty := yOf(t)
		pdf.Line(px, ty, px+pw, ty)
		lbl := sc.label(t)
		pdf.Text(px-yLabelGap-pdf.GetStringWidth(lbl), ty+1, lbl)
	}
	// Axes (and the zero line when values go below zero).
	pdf.SetLineWidth(0.3)
	p.draw(muted)
	pdf.Line(px, py, px, py+ph)
	pdf.Line(px, py+ph, px+pw, py+ph)
	if sc.lo < 0 {
		pdf.Line(px, yOf(0), px+pw, yOf(0))
	}
	if n == 0 || len(series) == 0 {
		pdf.SetXY(px, py+ph/2-3)
		pdf.CellFormat(pw, 6, "No data for this period.", "", 0, "C", false, 0, "")
		return
	}

	slot := pw / float64(n)
	xOf := func(i int) float64 { return px + slot*(float64(i)+0.5) }

	// X labels, every k-th so that none overlaps the next.
	widest := 0.0
	for _, l := range xs {
		widest = math.Max(widest, pdf.GetStringWidth(p.text(l)))
	}
	every := max(1, int(math.Ceil((widest+2)/slot)))
	labelRoom := slot*float64(every) - 1
	lastRight := math.Inf(-1)
	for i := 0; i < n; i += every {
		lbl := p.fit(p.text(xs[i]), labelRoom)
		lw := pdf.GetStringWidth(lbl)
		// Centred under its point, but kept inside the plot; a label pushed inwards onto its
		// neighbour is left out.
		lx := math.Min(math.Max(xOf(i)-lw/2, px), px+pw-lw)
		if lx < lastRight+1 {
			continue
		}
		pdf.Text(lx, py+ph+3.5, lbl)
		pdf.Line(xOf(i), py+ph, xOf(i), py+ph+0.8)
		lastRight = lx + lw
	}

	switch c.Kind {
	case Line:
		for s, ser := range series {
			col := seriesColor(p.d, s, ser.Name)
			p.draw(col)
			p.fill(col)
			pdf.SetLineWidth(0.5)
			for i := 1; i < n; i++ {
				pdf.Line(xOf(i-1), yOf(value(ser.Values, i-1)), xOf(i), yOf(value(ser.Values, i)))
			}
			if n <= markerMaxN {
				for i := 0; i < n; i++ {
					pdf.Circle(xOf(i), yOf(value(ser.Values, i)), 0.6, "F")
				}
			}
		}
	case StackedBars:
		bw := slot * 0.7
		for i := 0; i < n; i++ {
			pos, neg := 0.0, 0.0
			for s, ser := range series {
				v := value(ser.Values, i)
				if v == 0 {
					continue
				}
				from := &pos
				if v < 0 {
					from = &neg
				}
				p.fill(seriesColor(p.d, s, ser.Name))
				y0, y1 := yOf(*from), yOf(*from+v)
				pdf.Rect(xOf(i)-bw/2, math.Min(y0, y1), bw, math.Abs(y1-y0), "F")
				*from += v
			}
		}
	default: // Bars: one bar per series, side by side in the slot
		gw := slot * 0.8
		bw := gw / float64(len(series))
		for i := 0; i < n; i++ {
			for s, ser := range series {
				v := value(ser.Values, i)
				p.fill(seriesColor(p.d, s, ser.Name))
				y0, y1 := yOf(0), yOf(v)
				pdf.Rect(xOf(i)-gw/2+float64(s)*bw, math.Min(y0, y1), bw, math.Abs(y1-y0), "F")
			}
		}
	}

	// Legend under the x labels.
	ly := py + ph + xLabelH + 1
	p.color(ink)
	for _, e := range legend {
		p.fill(e.color)
		pdf.Rect(x+e.lx, ly+e.ly*legendRowH, 3, 3, "F")
		pdf.Text(x+e.lx+4, ly+e.ly*legendRowH+2.6, e.name)
	}
}
