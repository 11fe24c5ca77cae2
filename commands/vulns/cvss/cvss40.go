package cvss

// Indexes of the CVSS v4.0 metrics in v4Metrics, in the order of the specification
// (base, threat, environmental, supplemental).
const (
	v4AV = iota
	v4AC
	v4AT
	v4PR
	v4UI
	v4VC
	v4VI
	v4VA
	v4SC
	v4SI
	v4SA
	v4E
	v4CR
	v4IR
	v4AR
	v4MAV
	v4MAC
	v4MAT
	v4MPR
	v4MUI
	v4MVC
	v4MVI
	v4MVA
	v4MSC
	v4MSI
	v4MSA
	v4S
	v4AU
	v4R
	v4V
	v4RE
	v4U
	v4Count
)

// v4Metrics lists the metrics of CVSS v4.0 (specification, metric values). A modified
// metric lists "X" first and then the values of its base metric in the same order,
// so that value index-1 of MXX is the value index of XX; MSI and MSA add "S" (Safety)
// after them, at base index 3.
var v4Metrics = newMetricSet([]metricDef{
	v4AV:  {"AV", []string{"N", "A", "L", "P"}, true},
	v4AC:  {"AC", []string{"L", "H"}, true},
	v4AT:  {"AT", []string{"N", "P"}, true},
	v4PR:  {"PR", []string{"N", "L", "H"}, true},
	v4UI:  {"UI", []string{"N", "P", "A"}, true},
	v4VC:  {"VC", []string{"H", "L", "N"}, true},
	v4VI:  {"VI", []string{"H", "L", "N"}, true},
	v4VA:  {"VA", []string{"H", "L", "N"}, true},
	v4SC:  {"SC", []string{"H", "L", "N"}, true},
	v4SI:  {"SI", []string{"H", "L", "N"}, true},
	v4SA:  {"SA", []string{"H", "L", "N"}, true},
	v4E:   {"E", []string{"X", "A", "P", "U"}, false},
	v4CR:  {"CR", []string{"X", "H", "M", "L"}, false},
	v4IR:  {"IR", []string{"X", "H", "M", "L"}, false},
	v4AR:  {"AR", []string{"X", "H", "M", "L"}, false},
	v4MAV: {"MAV", []string{"X", "N", "A", "L", "P"}, false},
	v4MAC: {"MAC", []string{"X", "L", "H"}, false},
	v4MAT: {"MAT", []string{"X", "N", "P"}, false},
	v4MPR: {"MPR", []string{"X", "N", "L", "H"}, false},
	v4MUI: {"MUI", []string{"X", "N", "P", "A"}, false},
	v4MVC: {"MVC", []string{"X", "H", "L", "N"}, false},
	v4MVI: {"MVI", []string{"X", "H", "L", "N"}, false},
	v4MVA: {"MVA", []string{"X", "H", "L", "N"}, false},
	v4MSC: {"MSC", []string{"X", "H", "L", "N"}, false},
	v4MSI: {"MSI", []string{"X", "H", "L", "N", "S"}, false},
	v4MSA: {"MSA", []string{"X", "H", "L", "N", "S"}, false},
	v4S:   {"S", []string{"X", "N", "P"}, false},
	v4AU:  {"AU", []string{"X", "N", "Y"}, false},
	v4R:   {"R", []string{"X", "A", "U", "I"}, false},
	v4V:   {"V", []string{"X", "D", "C"}, false},
	v4RE:  {"RE", []string{"X", "L", "M", "H"}, false},
	v4U:   {"U", []string{"X", "Clear", "Green", "Amber", "Red"}, false},
})

// v4Levels are the effective values of the metrics that enter the score, each as a
// severity level: 0 is the most severe value and each step down in severity adds 1.
// The levels are those of the severity-distance computation of the CVSS v4.0 scoring
// algorithm (FIRST's reference calculator uses the same steps scaled by 0.1):
//
//	AV N0 A1 L2 P3   AC L0 H1   AT N0 P1   PR N0 L1 H2   UI N0 P1 A2
//	VC/VI/VA H0 L1 N2   SC H1 L2 N3   SI/SA S0 H1 L2 N3   CR/IR/AR H0 M1 L2
//
// E is kept as its EQ5 class: A (or X) 0, P 1, U 2.
type v4Levels struct {
	av, ac, at, pr, ui, vc, vi, va, sc, si, sa, cr, ir, ar, e int
}

// Level values used in the equivalence-class tests.
const (
	lvlAVNetwork  = 0
	lvlAVPhysical = 3
	lvlNone       = 0 // AV:N, PR:N, UI:N, AC:L, AT:N
	lvlHighVuln   = 0 // VC/VI/VA:H
	lvlSafety     = 0 // MSI/MSA:S
	lvlHighSub    = 1 // SC/SI/SA:H
	lvlHighReq    = 0 // CR/IR/AR:H (or X)
)

// V4 is a parsed CVSS v4.0 vector with its score. The zero value is not a valid
// vector; obtain one from Parse or ParseV4.
type V4 struct {
	vals [v4Count]uint8
	// scores in tenths of a point: of the vector as written, and of its base metrics alone
	score, baseOnly int
}

// ParseV4 parses and scores a "CVSS:4.0/..." vector. Any other prefix is refused with
// an *Error whose Metric is "".
func ParseV4(vector string) (*V4, error) { return parseAs[V4](vector) }

func (v *V4) parse(vector string) *Error {
	if _, err := v4Metrics.parseVector(vector, v.vals[:], "CVSS:4.0"); err != nil {
		return err
	}
	full := v.levels(false)
	v.score = scoreV4(&full)
	if v.Nomenclature() == "CVSS-B" {
		v.baseOnly = v.score
	} else {
		b := v.levels(true)
		v.baseOnly = scoreV4(&b)
	}
	return nil
}

// levels returns the effective levels of the scoring metrics. A modified metric that
// is present and not X replaces its base metric; absent or X threat and requirement
// metrics take their worst case (E:A, CR/IR/AR:H), as the specification prescribes.
// With baseOnly, threat and environmental metrics are ignored (the CVSS-B score).
func (v *V4) levels(baseOnly bool) v4Levels {
	eff := func(base, mod int) int {
		if !baseOnly && v.vals[mod] >= 2 {
			return int(v.vals[mod]) - 2
		}
		return int(v.vals[base]) - 1
	}
	sub := func(base, mod int) int { // SC/SI/SA: H1 L2 N3, and S (index 3) 0
		i := eff(base, mod)
		if i == 3 {
			return lvlSafety
		}
		return i + 1
	}
	opt := func(m int) int { // X (or absent) and the first value are both level 0
		if baseOnly || v.vals[m] <= 1 {
			return 0
		}
		return int(v.vals[m]) - 2
	}
	return v4Levels{
		av: eff(v4AV, v4MAV),
		ac: eff(v4AC, v4MAC),
		at: eff(v4AT, v4MAT),
		pr: eff(v4PR, v4MPR),
		ui: eff(v4UI, v4MUI),
		vc: eff(v4VC, v4MVC),
		vi: eff(v4VI, v4MVI),
		va: eff(v4VA, v4MVA),
		sc: sub(v4SC, v4MSC),
		si: sub(v4SI, v4MSI),
		sa: sub(v4SA, v4MSA),
		cr: opt(v4CR),
		ir: opt(v4IR),
		ar: opt(v4AR),
		e:  opt(v4E),
	}
}

// macroVector returns the equivalence classes EQ1..EQ6 of the effective metrics
// (the CVSS v4.0 specification's equivalence sets).
func macroVector(m *v4Levels) (eq [6]int) {
	// EQ1: 0 AV:N and PR:N and UI:N; 1 (AV:N or PR:N or UI:N) and not all and not AV:P;
	// 2 AV:P or none of AV:N, PR:N, UI:N.
	switch {
	case m.av == lvlAVNetwork && m.pr == lvlNone && m.ui == lvlNone:
		eq[0] = 0
	case (m.av == lvlAVNetwork || m.pr == lvlNone || m.ui == lvlNone) && m.av != lvlAVPhysical:
		eq[0] = 1
	default:
		eq[0] = 2
	}
	// EQ2: 0 AC:L and AT:N; 1 otherwise.
	if m.ac != lvlNone || m.at != lvlNone {
		eq[1] = 1
	}
	// EQ3: 0 VC:H and VI:H; 1 not that but one of VC, VI, VA is H; 2 none is H.
	switch {
	case m.vc == lvlHighVuln && m.vi == lvlHighVuln:
		eq[2] = 0
	case m.vc == lvlHighVuln || m.vi == lvlHighVuln || m.va == lvlHighVuln:
		eq[2] = 1
	default:
		eq[2] = 2
	}
	// EQ4: 0 MSI:S or MSA:S; 1 not that but one of SC, SI, SA is H; 2 otherwise.
	switch {
	case m.si == lvlSafety || m.sa == lvlSafety:
		eq[3] = 0
	case m.sc == lvlHighSub || m.si == lvlHighSub || m.sa == lvlHighSub:
		eq[3] = 1
	default:
		eq[3] = 2
	}
	// EQ5: E:A 0, E:P 1, E:U 2.
	eq[4] = m.e
	// EQ6: 0 (CR:H and VC:H) or (IR:H and VI:H) or (AR:H and VA:H); 1 otherwise.
	if !(m.cr == lvlHighReq && m.vc == lvlHighVuln ||
		m.ir == lvlHighReq && m.vi == lvlHighVuln ||
		m.ar == lvlHighReq && m.va == lvlHighVuln) {
		eq[5] = 1
	}
	return eq
}

// macroTable is macroVectorTenths indexed by the six EQ digits; -1 where no
// MacroVector exists.
var macroTable = func() (t [4][3][4][4][4][3]int16) {
	for i := range t {
		for j := range t[i] {
			for k := range t[i][j] {
				for l := range t[i][j][k] {
					for m := range t[i][j][k][l] {
						for n := range t[i][j][k][l][m] {
							t[i][j][k][l][m][n] = -1
						}
					}
				}
			}
		}
	}
	for key, s := range macroVectorTenths {
		if len(key) != 6 {
			panic("cvss: bad MacroVector key " + key)
		}
		var d [6]int
		for i := range d {
			d[i] = int(key[i] - '0')
		}
		if d[0] > 2 || d[1] > 1 || d[2] > 2 || d[3] > 2 || d[4] > 2 || d[5] > 1 {
			panic("cvss: bad MacroVector key " + key)
		}
		t[d[0]][d[1]][d[2]][d[3]][d[4]][d[5]] = int16(s)
	}
	return t
}()

// macroScore returns the score in tenths of the MacroVector eq, and false when that
// MacroVector does not exist (a digit past its last class). The table has one spare
// slot past every class so that a "next lower" MacroVector can be looked up directly.
func macroScore(eq [6]int) (int, bool) {
	s := macroTable[eq[0]][eq[1]][eq[2]][eq[3]][eq[4]][eq[5]]
	return int(s), s >= 0
}

// Highest-severity vectors of each equivalence class, as levels (the "highest
// severity vectors" of each EQ in the specification; the same sets as FIRST's
// max_composed.js), in the order in which they are tried.
var (
	// AV, PR, UI
	eq1Maxes = [3][][3]int{
		0: {{0, 0, 0}},                       // AV:N/PR:N/UI:N
		1: {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, // AV:A/PR:N/UI:N, AV:N/PR:L/UI:N, AV:N/PR:N/UI:P
		2: {{3, 0, 0}, {1, 1, 1}},            // AV:P/PR:N/UI:N, AV:A/PR:L/UI:P
	}
	// AC, AT
	eq2Maxes = [2][][2]int{
		0: {{0, 0}},         // AC:L/AT:N
		1: {{1, 0}, {0, 1}}, // AC:H/AT:N, AC:L/AT:P
	}
	// VC, VI, VA, CR, IR, AR, by EQ3 then EQ6
	eq3eq6Maxes = [3][2][][6]int{
		0: {
			0: {{0, 0, 0, 0, 0, 0}}, // VC:H/VI:H/VA:H/CR:H/IR:H/AR:H
			1: {
				{0, 0, 1, 1, 1, 0}, // VC:H/VI:H/VA:L/CR:M/IR:M/AR:H
				{0, 0, 0, 1, 1, 1}, // VC:H/VI:H/VA:H/CR:M/IR:M/AR:M
			},
		},
		1: {
			0: {
				{1, 0, 0, 0, 0, 0}, // VC:L/VI:H/VA:H/CR:H/IR:H/AR:H
				{0, 1, 0, 0, 0, 0}, // VC:H/VI:L/VA:H/CR:H/IR:H/AR:H
			},
			1: {
				{1, 0, 1, 0, 1, 0}, // VC:L/VI:H/VA:L/CR:H/IR:M/AR:H
				{1, 0, 0, 0, 1, 1}, // VC:L/VI:H/VA:H/CR:H/IR:M/AR:M
				{0, 1, 0, 1, 0, 1}, // VC:H/VI:L/VA:H/CR:M/IR:H/AR:M
				{0, 1, 1, 1, 0, 0}, // VC:H/VI:L/VA:L/CR:M/IR:H/AR:H
				{1, 1, 0, 0, 0, 1}, // VC:L/VI:L/VA:H/CR:H/IR:H/AR:M
			},
		},
		2: {
			1: {{1, 1, 1, 0, 0, 0}}, // VC:L/VI:L/VA:L/CR:H/IR:H/AR:H
		},
	}
	// SC, SI, SA
	eq4Maxes = [3][3]int{
		0: {1, 0, 0}, // SC:H/SI:S/SA:S
		1: {1, 1, 1}, // SC:H/SI:H/SA:H
		2: {2, 2, 2}, // SC:L/SI:L/SA:L
	}
)

// Depth of each MacroVector, in severity levels: the largest severity distance a
// vector can have from the MacroVector's highest-severity vector, plus one.
var (
	eq1Depth    = [3]int{1, 4, 5}
	eq2Depth    = [2]int{1, 2}
	eq3eq6Depth = [3][2]int{{7, 6}, {8, 8}, {0, 10}}
	eq4Depth    = [3]int{6, 5, 4}
)

// depthLCM is the least common multiple of every depth above, so that the
// proportional distances can be summed exactly over a common denominator.
const depthLCM = 840

// scoreV4 returns the CVSS v4.0 score, in tenths, of the effective metrics m with the
// scoring algorithm of the specification, in exact arithmetic:
//
//  1. No impact at all (VC, VI, VA, SC, SI, SA all N) scores 0.
//  2. Otherwise start from the score S of the vector's MacroVector. For each of EQ1,
//     EQ2, EQ3+EQ6 (jointly), EQ4 and EQ5 whose next lower MacroVector exists, the
//     available distance is S minus that MacroVector's score (for EQ3+EQ6 at 00 the
//     higher of 01 and 10); it is scaled by the vector's severity distance from the
//     first highest-severity vector of its MacroVector that it does not exceed on any
//     metric, divided by the MacroVector's depth. EQ5 always contributes 0.
//  3. The score is S minus the mean of those proportional distances, clamped to
//     0..10 and rounded to one decimal, half up, from the exact rational value.
func scoreV4(m *v4Levels) int {
	x, den := scoreV4Exact(m)
	return (2*x + den) / (2 * den) // round half up
}

// scoreV4Exact returns the exact score of m in tenths, clamped to 0..100, as the
// fraction x/den (den > 0).
func scoreV4Exact(m *v4Levels) (x, den int) {
	if m.vc == 2 && m.vi == 2 && m.va == 2 && m.sc == 3 && m.si == 3 && m.sa == 3 {
		return 0, 1
	}
	eq := macroVector(m)
	value, ok := macroScore(eq)
	if !ok {
		panic("cvss: no MacroVector for a valid vector")
	}

	// Severity distances from the first highest-severity vector not more severe than
	// the vector on any metric (if none is, the last one tried, as the reference
	// calculator does).
	var d1, d2, d36, d4 int
	e36 := eq3eq6Maxes[eq[2]][eq[5]]
	e4 := eq4Maxes[eq[3]]
search:
	for _, e1 := range eq1Maxes[eq[0]] {
		for _, e2 := range eq2Maxes[eq[1]] {
			for _, e3 := range e36 {
				dAV, dPR, dUI := m.av-e1[0], m.pr-e1[1], m.ui-e1[2]
				dAC, dAT := m.ac-e2[0], m.at-e2[1]
				dVC, dVI, dVA := m.vc-e3[0], m.vi-e3[1], m.va-e3[2]
				dCR, dIR, dAR := m.cr-e3[3], m.ir-e3[4], m.ar-e3[5]
				dSC, dSI, dSA := m.sc-e4[0], m.si-e4[1], m.sa-e4[2]
				d1 = dAV + dPR + dUI
				d2 = dAC + dAT
				d36 = dVC + dVI + dVA + dCR + dIR + dAR
				d4 = dSC + dSI + dSA
				if dAV >= 0 && dPR >= 0 && dUI >= 0 && dAC >= 0 && dAT >= 0 &&
					dVC >= 0 && dVI >= 0 && dVA >= 0 && dCR >= 0 && dIR >= 0 && dAR >= 0 &&
					dSC >= 0 && dSI >= 0 && dSA >= 0 {
					break search
				}
			}
		}
	}

	n := 0   // number of EQs with a next lower MacroVector
	sum := 0 // sum of proportional distances, in tenths × depthLCM
	add := func(lower [6]int, dist, depth int) {
		if s, ok := macroScore(lower); ok {
			n++
			sum += (value - s) * dist * (depthLCM / depth)
		}
	}
	next := eq
	next[0]++
	add(next, d1, eq1Depth[eq[0]])
	next = eq
	next[1]++
	add(next, d2, eq2Depth[eq[1]])
	switch {
	case eq[2] == 0 && eq[5] == 0: // 00 goes down to 01 or 10: take the higher score
		left, right := eq, eq
		left[5]++
		right[2]++
		ls, lok := macroScore(left)
		rs, rok := macroScore(right)
		if lok && rok && ls > rs {
			add(left, d36, eq3eq6Depth[eq[2]][eq[5]])
		} else {
			add(right, d36, eq3eq6Depth[eq[2]][eq[5]])
		}
	case eq[5] == 0: // 10 -> 11
		next = eq
		next[5]++
		add(next, d36, eq3eq6Depth[eq[2]][eq[5]])
	case eq[2] == 2: // 21 has no lower MacroVector
	default: // 01 -> 11, 11 -> 21
		next = eq
		next[2]++
		add(next, d36, eq3eq6Depth[eq[2]][eq[5]])
	}
	next = eq
	next[3]++
	add(next, d4, eq4Depth[eq[3]])
	next = eq
	next[4]++
	add(next, 0, 1) // EQ5 counts in the mean with a distance of 0

	if n == 0 {
		return value, 1
	}
	// exact score in tenths = value - sum/(depthLCM*n) = x/den
	den = depthLCM * n
	x = value*den - sum
	switch {
	case x <= 0:
		return 0, 1
	case x >= 100*den:
		return 100, 1
	}
	return x, den
}

// Version returns "4.0".
func (v *V4) Version() string { return "4.0" }

// Score returns the CVSS v4.0 score of the vector as written: CVSS-B, CVSS-BT,
// CVSS-BE or CVSS-BTE according to Nomenclature.
func (v *V4) Score() float64 { return tenths(v.score) }

// BaseScore returns Score: CVSS v4.0 has a single score equation, and the score of a
// vector is named by the metric groups it carries (see Nomenclature). It is what the
// CLI reports as "base_score". For the score of the base metrics alone use
// CVSSBScore.
func (v *V4) BaseScore() float64 { return v.Score() }

// CVSSBScore returns the CVSS-B score: the score of the base metrics alone, with any
// threat and environmental metrics ignored. It equals Score when Nomenclature is
// "CVSS-B".
func (v *V4) CVSSBScore() float64 { return tenths(v.baseOnly) }

// Nomenclature returns "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE": B always, T when
// the threat metric E is present with a value other than X, E when an environmental
// metric (CR, IR, AR or a modified base metric) is. Supplemental metrics do not
// change the score and do not appear in the nomenclature.
func (v *V4) Nomenclature() string {
	t := v.vals[v4E] >= 2
	e := false
	for m := v4CR; m <= v4MSA; m++ {
		if v.vals[m] >= 2 {
			e = true
			break
		}
	}
	switch {
	case t && e:
		return "CVSS-BTE"
	case t:
		return "CVSS-BT"
	case e:
		return "CVSS-BE"
	}
	return "CVSS-B"
}

// Severity returns the qualitative rating of Score.
func (v *V4) Severity() string { return Rating(v.Score()) }

// Metric returns the value given for a metric ("AV", "E", "MSI", "U", ...) and
// whether the vector carries it.
func (v *V4) Metric(name string) (string, bool) {
	i, ok := v4Metrics.index[name]
	if !ok || v.vals[i] == 0 {
		return "", false
	}
	return v4Metrics.value(v.vals[:], i), true
}

// String returns the vector in canonical form: "CVSS:4.0", then every metric present
// in the input (X values included) in the specification's order.
func (v *V4) String() string { return v4Metrics.format("CVSS:4.0", v.vals[:]) }
