package cvss

import (
	"testing"
)

// TestCVSS40Vectors checks the 1,694 CVSS v4.0 vectors of Red Hat's test suite
// (vectors_simple4, _supplemental4, _security4, _threat4). expected_base_score is
// the score of the vector as written (CVSS-B, -BT, -BE or -BTE), which is what
// BaseScore returns for v4.
func TestCVSS40Vectors(t *testing.T) {
	eachVector(t, "cvss40_vectors.csv", 1694, ParseV4, func(row map[string]string, v *V4) {
		wantColumn(t, row, "score", fmtScore(v.BaseScore()), "expected_base_score")
		if v.Score() != v.BaseScore() {
			t.Errorf("%s: Score %v != BaseScore %v", row["vector"], v.Score(), v.BaseScore())
		}
		wantColumn(t, row, "severity", v.Severity(), "expected_severity")
	})
}

// TestCVSS40GoCVSS checks score, severity and nomenclature from go-cvss's table.
func TestCVSS40GoCVSS(t *testing.T) {
	eachVector(t, "cvss40_gocvss.csv", 0, ParseV4, func(row map[string]string, v *V4) {
		wantColumn(t, row, "score", fmtScore(v.Score()), "expected_base_score")
		wantColumn(t, row, "severity", v.Severity(), "expected_severity")
		wantColumn(t, row, "nomenclature", v.Nomenclature(), "nomenclature")
	})
}

// TestCVSS40RoundingRule_ExactDecimalHalfUp checks the package's rounding rule on the
// vectors whose exact score is x.x5: computed in exact (integer) arithmetic and
// rounded half up, the score matches the column redhat_cvss_expected. Binary floating
// point (first_calculator_js, and go-cvss on most rows) lands just below x.x5 and
// rounds down, so those columns must differ from ours.
func TestCVSS40RoundingRule_ExactDecimalHalfUp(t *testing.T) {
	eachVector(t, "cvss40_rounding_edge_cases.csv", 6, ParseV4, func(row map[string]string, v *V4) {
		got := fmtScore(v.Score())
		wantColumn(t, row, "exact-decimal half-up score", got, "redhat_cvss_expected")
		if got == row["first_calculator_js"] {
			t.Errorf("%s: score %s equals the float-rounded first_calculator_js value; the row is no edge case",
				row["vector"], got)
		}
		// The exact value is x.x5: half a tenth above the JS result.
		if exact := exactTenthsTimes2(t, row["vector"]); exact%2 == 0 {
			t.Errorf("%s: exact score is not a tie (2x tenths = %d)", row["vector"], exact)
		}
	})
}

// exactTenthsTimes2 returns 2 × the exact score in tenths when that is an integer
// (so an odd result is a tie x.x5), failing the test otherwise.
func exactTenthsTimes2(t *testing.T, vector string) int {
	t.Helper()
	v, err := ParseV4(vector)
	if err != nil {
		t.Fatal(err)
	}
	num, den := scoreV4Exact(ptr(v.levels(false)))
	if (2*num)%den != 0 {
		t.Fatalf("%s: exact score %d/%d tenths is not a multiple of 0.05", vector, num, den)
	}
	return 2 * num / den
}

func ptr[T any](v T) *T { return &v }

// TestCVSS40Nomenclature checks which metric groups name the score.
func TestCVSS40Nomenclature(t *testing.T) {
	base := "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"
	for _, c := range []struct{ suffix, want string }{
		{"", "CVSS-B"},
		{"/E:X", "CVSS-B"},
		{"/E:X/CR:X/MAV:X/U:Red", "CVSS-B"},
		{"/S:P/AU:Y/R:I/V:C/RE:H/U:Clear", "CVSS-B"},
		{"/E:P", "CVSS-BT"},
		{"/CR:L", "CVSS-BE"},
		{"/MSI:S", "CVSS-BE"},
		{"/E:U/MAV:P", "CVSS-BTE"},
	} {
		v, err := ParseV4(base + c.suffix)
		if err != nil {
			t.Errorf("%s: %v", base+c.suffix, err)
			continue
		}
		if got := v.Nomenclature(); got != c.want {
			t.Errorf("%s: nomenclature %s, want %s", c.suffix, got, c.want)
		}
		if c.want == "CVSS-B" && v.CVSSBScore() != v.Score() {
			t.Errorf("%s: CVSS-B score %v != score %v", c.suffix, v.CVSSBScore(), v.Score())
		}
	}
	// CVSSBScore ignores threat and environmental metrics.
	v, err := ParseV4(base + "/E:U/CR:L/IR:L/AR:L/MVC:L")
	if err != nil {
		t.Fatal(err)
	}
	if v.CVSSBScore() != 10.0 || v.Score() >= 10.0 {
		t.Errorf("CVSS-B %v (want 10.0), CVSS-BTE %v (want < 10)", v.CVSSBScore(), v.Score())
	}
}

// TestCVSS40MaxVectorAlwaysFound checks, over every combination of effective metric
// levels, that the scoring algorithm finds a highest-severity vector that the vector
// does not exceed on any metric, so the reference calculator's fall-back to the last
// candidate never matters. E does not enter the search, so it is left at A. 5 million
// combinations: skipped with -short.
func TestCVSS40MaxVectorAlwaysFound(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive over 5M level combinations: skipped in -short mode")
	}
	var m v4Levels
	count := 0
	for m.av = 0; m.av < 4; m.av++ {
		for m.ac = 0; m.ac < 2; m.ac++ {
			for m.at = 0; m.at < 2; m.at++ {
				for m.pr = 0; m.pr < 3; m.pr++ {
					for m.ui = 0; m.ui < 3; m.ui++ {
						for m.vc = 0; m.vc < 3; m.vc++ {
							for m.vi = 0; m.vi < 3; m.vi++ {
								for m.va = 0; m.va < 3; m.va++ {
									for m.sc = 1; m.sc < 4; m.sc++ {
										for m.si = 0; m.si < 4; m.si++ {
											for m.sa = 0; m.sa < 4; m.sa++ {
												for m.cr = 0; m.cr < 3; m.cr++ {
													for m.ir = 0; m.ir < 3; m.ir++ {
														for m.ar = 0; m.ar < 3; m.ar++ {
															count++
															if !maxVectorFound(&m) {
																t.Fatalf("no highest-severity vector at or above %+v", m)
															}
														}
													}
												}
											}
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d level combinations checked", count)
}

// maxVectorFound reports whether some highest-severity vector of m's MacroVector is
// at least as severe as m on every metric.
func maxVectorFound(m *v4Levels) bool {
	eq := macroVector(m)
	e4 := eq4Maxes[eq[3]]
	for _, e1 := range eq1Maxes[eq[0]] {
		for _, e2 := range eq2Maxes[eq[1]] {
			for _, e3 := range eq3eq6Maxes[eq[2]][eq[5]] {
				if m.av >= e1[0] && m.pr >= e1[1] && m.ui >= e1[2] && m.ac >= e2[0] && m.at >= e2[1] &&
					m.vc >= e3[0] && m.vi >= e3[1] && m.va >= e3[2] &&
					m.cr >= e3[3] && m.ir >= e3[4] && m.ar >= e3[5] &&
					m.sc >= e4[0] && m.si >= e4[1] && m.sa >= e4[2] {
					return true
				}
			}
		}
	}
	return false
}

// TestMacroVectorTable checks the lookup table's shape: 270 MacroVectors, every
// combination of classes except EQ3=2 with EQ6=0, scores within 0..10.
func TestMacroVectorTable(t *testing.T) {
	if len(macroVectorTenths) != 270 {
		t.Fatalf("%d MacroVectors, want 270", len(macroVectorTenths))
	}
	for e1 := 0; e1 < 3; e1++ {
		for e2 := 0; e2 < 2; e2++ {
			for e3 := 0; e3 < 3; e3++ {
				for e4 := 0; e4 < 3; e4++ {
					for e5 := 0; e5 < 3; e5++ {
						for e6 := 0; e6 < 2; e6++ {
							s, ok := macroScore([6]int{e1, e2, e3, e4, e5, e6})
							if want := !(e3 == 2 && e6 == 0); ok != want {
								t.Errorf("%d%d%d%d%d%d: exists %v, want %v", e1, e2, e3, e4, e5, e6, ok, want)
							}
							if ok && (s < 0 || s > 100) {
								t.Errorf("%d%d%d%d%d%d: score %d tenths", e1, e2, e3, e4, e5, e6, s)
							}
						}
					}
				}
			}
		}
	}
}
