package cvss

import "math"

// Indexes of the CVSS v3.x metrics in v3Metrics, in the order of the specification
// (base, temporal, environmental).
const (
	v3AV = iota
	v3AC
	v3PR
	v3UI
	v3S
	v3C
	v3I
	v3A
	v3E
	v3RL
	v3RC
	v3CR
	v3IR
	v3AR
	v3MAV
	v3MAC
	v3MPR
	v3MUI
	v3MS
	v3MC
	v3MI
	v3MA
	v3Count
)

// v3Metrics lists the metrics of CVSS v3.0/v3.1 (specification section 7.4). A
// modified metric lists "X" first and then exactly the values of its base metric in
// the same order, so that value index-1 of MXX is the value index of XX.
var v3Metrics = newMetricSet([]metricDef{
	v3AV:  {"AV", []string{"N", "A", "L", "P"}, true},
	v3AC:  {"AC", []string{"L", "H"}, true},
	v3PR:  {"PR", []string{"N", "L", "H"}, true},
	v3UI:  {"UI", []string{"N", "R"}, true},
	v3S:   {"S", []string{"U", "C"}, true},
	v3C:   {"C", []string{"H", "L", "N"}, true},
	v3I:   {"I", []string{"H", "L", "N"}, true},
	v3A:   {"A", []string{"H", "L", "N"}, true},
	v3E:   {"E", []string{"X", "U", "P", "F", "H"}, false},
	v3RL:  {"RL", []string{"X", "O", "T", "W", "U"}, false},
	v3RC:  {"RC", []string{"X", "U", "R", "C"}, false},
	v3CR:  {"CR", []string{"X", "L", "M", "H"}, false},
	v3IR:  {"IR", []string{"X", "L", "M", "H"}, false},
	v3AR:  {"AR", []string{"X", "L", "M", "H"}, false},
	v3MAV: {"MAV", []string{"X", "N", "A", "L", "P"}, false},
	v3MAC: {"MAC", []string{"X", "L", "H"}, false},
	v3MPR: {"MPR", []string{"X", "N", "L", "H"}, false},
	v3MUI: {"MUI", []string{"X", "N", "R"}, false},
	v3MS:  {"MS", []string{"X", "U", "C"}, false},
	v3MC:  {"MC", []string{"X", "H", "L", "N"}, false},
	v3MI:  {"MI", []string{"X", "H", "L", "N"}, false},
	v3MA:  {"MA", []string{"X", "H", "L", "N"}, false},
})

// Numerical weights of the metric values (specification section 7.4), indexed like
// the value lists above. For the temporal and requirement metrics index 0 is X
// ("Not Defined"), whose weight is 1.
var (
	v3WeightAV       = [...]float64{0.85, 0.62, 0.55, 0.2}
	v3WeightAC       = [...]float64{0.77, 0.44}
	v3WeightPRUnchg  = [...]float64{0.85, 0.62, 0.27}
	v3WeightPRChg    = [...]float64{0.85, 0.68, 0.5}
	v3WeightUI       = [...]float64{0.85, 0.62}
	v3WeightCIA      = [...]float64{0.56, 0.22, 0}
	v3WeightE        = [...]float64{1, 0.91, 0.94, 0.97, 1}
	v3WeightRL       = [...]float64{1, 0.95, 0.96, 0.97, 1}
	v3WeightRC       = [...]float64{1, 0.92, 0.96, 1}
	v3WeightRequired = [...]float64{1, 0.5, 1, 1.5}
)

// scopeChanged is the value index of S:C (and of MS:C minus one).
const scopeChanged = 1

// V3 is a parsed CVSS v3.1 (or v3.0) vector with its scores. The zero value is not
// a valid vector; obtain one from Parse or ParseV3.
type V3 struct {
	minor uint8 // 0 for CVSS:3.0, 1 for CVSS:3.1
	vals  [v3Count]uint8
	// scores in tenths of a point
	base, temporal, environmental int
}

// ParseV3 parses and scores a "CVSS:3.1/..." or "CVSS:3.0/..." vector. Any other
// prefix is refused with an *Error whose Metric is "".
func ParseV3(vector string) (*V3, error) { return parseAs[V3](vector) }

func (v *V3) parse(vector string) *Error {
	minor, err := v3Metrics.parseVector(vector, v.vals[:], "CVSS:3.0", "CVSS:3.1")
	if err != nil {
		return err
	}
	v.minor = uint8(minor)
	v.score()
	return nil
}

// idx returns the value index of metric m, treating an absent metric as its
// first value (X for the optional metrics).
func (v *V3) idx(m int) int {
	if v.vals[m] == 0 {
		return 0
	}
	return int(v.vals[m]) - 1
}

// modified returns the value index, in the base metric's list, of the modified
// metric mod when it is defined, else of the base metric.
func (v *V3) modified(base, mod int) int {
	if v.vals[mod] >= 2 { // present and not X
		return int(v.vals[mod]) - 2
	}
	return int(v.vals[base]) - 1
}

// roundUp is Roundup from Appendix A of the CVSS v3.1 specification, returning
// tenths: the input is first brought to an integer number of hundred-thousandths
// (absorbing floating-point error such as 4.000000000000001), and then rounded up
// to the next tenth in integer arithmetic. Inputs are never negative here.
func roundUp(x float64) int {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return int(i / 10000)
	}
	return int(i/10000) + 1
}

// score computes the base, temporal and environmental scores with the equations of
// the CVSS v3.1 specification (section 7). CVSS:3.0 vectors are scored with these
// same v3.1 equations: v3.1 changed only the Roundup definition (Appendix A) and the
// environmental ModifiedImpact for changed scope, and this package always applies
// the v3.1 form, so a v3.0 vector may score 0.1 differently from a v3.0 calculator
// in rare environmental cases.
func (v *V3) score() {
	// Base (7.1).
	c := v3WeightCIA[v.idx(v3C)]
	i := v3WeightCIA[v.idx(v3I)]
	a := v3WeightCIA[v.idx(v3A)]
	changed := v.idx(v3S) == scopeChanged
	iss := 1 - (1-c)*(1-i)*(1-a)
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	expl := v3Exploitability(v.idx(v3AV), v.idx(v3AC), v.idx(v3PR), v.idx(v3UI), changed)
	v.base = v3Total(impact, expl, changed)

	// Temporal (7.2).
	temporalFactor := v3WeightE[v.idx(v3E)] * v3WeightRL[v.idx(v3RL)] * v3WeightRC[v.idx(v3RC)]
	v.temporal = roundUp(float64(v.base) / 10 * temporalFactor)

	// Environmental (7.3).
	mc := v3WeightCIA[v.modified(v3C, v3MC)]
	mi := v3WeightCIA[v.modified(v3I, v3MI)]
	ma := v3WeightCIA[v.modified(v3A, v3MA)]
	cr := v3WeightRequired[v.idx(v3CR)]
	ir := v3WeightRequired[v.idx(v3IR)]
	ar := v3WeightRequired[v.idx(v3AR)]
	mChanged := v.modified(v3S, v3MS) == scopeChanged
	miss := math.Min(1-(1-cr*mc)*(1-ir*mi)*(1-ar*ma), 0.915)
	var mImpact float64
	if mChanged {
		mImpact = 7.52*(miss-0.029) - 3.25*math.Pow(miss*0.9731-0.02, 13)
	} else {
		mImpact = 6.42 * miss
	}
	mExpl := v3Exploitability(v.modified(v3AV, v3MAV), v.modified(v3AC, v3MAC), v.modified(v3PR, v3MPR), v.modified(v3UI, v3MUI), mChanged)
	v.environmental = roundUp(float64(v3Total(mImpact, mExpl, mChanged)) / 10 * temporalFactor)
}

// v3Exploitability is 8.22 × AV × AC × PR × UI over the value indexes of those metrics, PR
// weighed by whether the scope changed: the base equation's (7.1), which the environmental one
// (7.3) repeats on the modified metrics.
func v3Exploitability(av, ac, pr, ui int, changed bool) float64 {
	prWeight := v3WeightPRUnchg[pr]
	if changed {
		prWeight = v3WeightPRChg[pr]
	}
	return 8.22 * v3WeightAV[av] * v3WeightAC[ac] * prWeight * v3WeightUI[ui]
}

// v3Total is the last step of the base equation, in tenths, which the environmental one also
// takes: 0 without impact, else impact plus exploitability (times 1.08 when the scope changed),
// at most 10, rounded up.
func v3Total(impact, expl float64, changed bool) int {
	switch {
	case impact <= 0:
		return 0
	case changed:
		return roundUp(math.Min(1.08*(impact+expl), 10))
	default:
		return roundUp(math.Min(impact+expl, 10))
	}
}

// Version returns "3.1" or "3.0", as written in the vector's prefix.
func (v *V3) Version() string {
	if v.minor == 0 {
		return "3.0"
	}
	return "3.1"
}

// BaseScore returns the base score (0.0-10.0, one decimal).
func (v *V3) BaseScore() float64 { return tenths(v.base) }

// TemporalScore returns the temporal score. Without temporal metrics it equals the
// base score.
func (v *V3) TemporalScore() float64 { return tenths(v.temporal) }

// EnvironmentalScore returns the environmental score. It is computed from the
// modified metrics, falling back to the base metrics where they are absent or X,
// and with the temporal metrics applied.
func (v *V3) EnvironmentalScore() float64 { return tenths(v.environmental) }

// HasTemporal reports whether the vector defines a temporal metric (E, RL or RC with
// a value other than X).
func (v *V3) HasTemporal() bool { return v.defined(v3E, v3RC) }

// HasEnvironmental reports whether the vector defines an environmental metric (CR,
// IR, AR or a modified base metric, with a value other than X).
func (v *V3) HasEnvironmental() bool { return v.defined(v3CR, v3MA) }

// defined reports whether a metric in [from, to] is present with a value other than X.
func (v *V3) defined(from, to int) bool {
	for m := from; m <= to; m++ {
		if v.vals[m] >= 2 { // index 0 is X for every optional v3 metric
			return true
		}
	}
	return false
}

// Severity returns the qualitative rating of the base score.
func (v *V3) Severity() string { return Rating(v.BaseScore()) }

// Metric returns the value given for a metric ("AV", "E", "MAV", ...) and whether the
// vector carries it.
func (v *V3) Metric(name string) (string, bool) {
	i, ok := v3Metrics.index[name]
	if !ok || v.vals[i] == 0 {
		return "", false
	}
	return v3Metrics.value(v.vals[:], i), true
}

// String returns the vector in canonical form: the prefix as given, then every
// metric present in the input (X values included) in the specification's order.
func (v *V3) String() string {
	prefix := "CVSS:3.1"
	if v.minor == 0 {
		prefix = "CVSS:3.0"
	}
	return v3Metrics.format(prefix, v.vals[:])
}
