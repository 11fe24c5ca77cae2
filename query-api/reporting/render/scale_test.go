package render

import (
	"fmt"
	"slices"
	"testing"
)

func TestNiceScaleStepsAreOneTwoOrFiveTimesAPowerOfTen(t *testing.T) {
	for _, c := range []struct {
		lo, hi         float64
		want           axisScale
		firstTickLabel string
	}{
		{0, 7, axisScale{0, 8, 2}, "0"},
		{0, 97, axisScale{0, 100, 20}, "0"},
		{0, 16, axisScale{0, 20, 5}, "0"},
		{0, 1234, axisScale{0, 1500, 500}, "0"},
		{0, 0, axisScale{0, 1, 0.2}, "0.0"},
		{0, 0.37, axisScale{0, 0.4, 0.1}, "0.0"},
		{-3, 12, axisScale{-5, 15, 5}, "-5"},
		{5, 9, axisScale{0, 10, 2}, "0"}, // value axes start at zero
		{0, 2_500_000, axisScale{0, 2_500_000, 500_000}, "0"},
	} {
		got := niceScale(c.lo, c.hi)
		if fmt.Sprintf("%.6g", got) != fmt.Sprintf("%.6g", c.want) {
			t.Errorf("niceScale(%v, %v) = %+v, want %+v", c.lo, c.hi, got, c.want)
		}
		if l := got.label(got.ticks()[0]); l != c.firstTickLabel {
			t.Errorf("niceScale(%v, %v) first tick %q, want %q", c.lo, c.hi, l, c.firstTickLabel)
		}
	}
	if got := niceScale(0, 2_500_000).label(1_000_000); got != "1,000,000" {
		t.Errorf("big tick label %q", got)
	}
}

func TestThinChartCapsPointsAndSeriesAndKeepsTheLastPoint(t *testing.T) {
	n := 1000
	c := &Chart{X: make([]string, n)}
	for i := range n {
		c.X[i] = fmt.Sprint(i)
	}
	for s := range MaxChartSeries + 3 {
		v := make([]float64, n-10) // a short series reads as zeros past its end
		for i := range v {
			v[i] = float64(i)
		}
		c.Series = append(c.Series, Series{Name: fmt.Sprint("s", s), Values: v})
	}
	x, series := thinChart(c)
	if len(x) > MaxChartPoints+1 || len(x) < MaxChartPoints/2 {
		t.Errorf("%d points kept of %d, want at most about %d", len(x), n, MaxChartPoints)
	}
	if x[0] != "0" || x[len(x)-1] != "999" {
		t.Errorf("kept %s..%s, want the first and last points", x[0], x[len(x)-1])
	}
	if len(series) != MaxChartSeries {
		t.Errorf("%d series kept, want %d", len(series), MaxChartSeries)
	}
	if got := series[0].Values[len(x)-1]; got != 0 {
		t.Errorf("the last point of a short series is %v, want 0", got)
	}
	if got := series[0].Values[1]; got != 3 {
		t.Errorf("the second kept point %v, want the value at index 3", got)
	}
	short := &Chart{X: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []float64{1, 2}}}}
	if x, s := thinChart(short); !slices.Equal(x, short.X) || !slices.Equal(s[0].Values, []float64{1, 2}) {
		t.Error("a short chart is changed")
	}
}

func TestStackedBarsScaleToTheirSums(t *testing.T) {
	series := []Series{{Values: []float64{3, 10}}, {Values: []float64{4, 1}}, {Values: []float64{-2, 0}}}
	if lo, hi := valueRange(StackedBars, 2, series); lo != -2 || hi != 11 {
		t.Errorf("stacked range %v..%v, want -2..11", lo, hi)
	}
	if lo, hi := valueRange(Line, 2, series); lo != -2 || hi != 10 {
		t.Errorf("line range %v..%v, want -2..10", lo, hi)
	}
}

func TestFormatFigure(t *testing.T) {
	for f, want := range map[Figure]string{
		{Value: 1234567}:            "1,234,567",
		{Value: -1234}:              "-1,234",
		{Value: 97.54, Unit: "%"}:   "97.5%",
		{Value: 4.5, Unit: "days"}:  "4.5 days",
		{Value: 12, Unit: "assets"}: "12 assets",
		{Value: 0}:                  "0",
	} {
		if got := formatFigure(f); got != want {
			t.Errorf("formatFigure(%+v) = %q, want %q", f, got, want)
		}
	}
}
