// Package cvss parses CVSS vector strings and computes their scores exactly, from
// FIRST's specifications: CVSS v3.1 (with v3.0 vectors) and CVSS v4.0. It uses the
// standard library only.
//
// # API
//
//	Parse(vector string) (Vector, error)   // *V3 or *V4, chosen by the prefix
//	ParseV3(vector string) (*V3, error)    // "CVSS:3.1/…" or "CVSS:3.0/…"
//	ParseV4(vector string) (*V4, error)    // "CVSS:4.0/…"
//	Score(vector string) (Result, error)   // what `soc cvss VECTOR…` prints as JSON
//	Rating(score float64) string           // None, Low, Medium, High, Critical
//
// Every error is an *Error naming the offending metric and value (Metric "" for a
// bad prefix or format). Parsing is strict: the prefix must be exactly CVSS:3.0,
// CVSS:3.1 or CVSS:4.0; metric names and values are case-sensitive and must be ones
// the specification defines; every mandatory base metric must be present; no metric
// may appear twice; no component may be empty (so no trailing "/"). Metrics may come
// in any order; String writes them back in the specification's order.
//
// # CVSS v3.1
//
// Base, temporal and environmental scores follow the equations of section 7 of the
// v3.1 specification, with Roundup implemented as in its Appendix A: the float64
// result of an equation is first rounded to an integer number of 1/100000 and then
// rounded up to a tenth in integer arithmetic, so float noise such as
// 4.000000000000001 does not turn 4.0 into 4.1. Vectors with the CVSS:3.0 prefix are
// accepted and scored with the same v3.1 equations (Version reports "3.0").
// The temporal score without temporal metrics equals the base score; the
// environmental score uses the modified metrics where defined and the base metrics
// elsewhere.
//
// # CVSS v4.0
//
// The score is computed with the specification's MacroVector algorithm, as FIRST's
// reference calculator (cvss_lookup.js, cvss_score.js) does: the
// equivalence classes EQ1..EQ6 select a MacroVector whose score comes from the
// published lookup table; the score is then lowered by the mean, over the EQs that
// have a lower MacroVector, of the available score distance times the vector's
// severity distance from the MacroVector's highest-severity vector, divided by the
// MacroVector's depth. Absent or X threat and requirement metrics take their worst
// case (E:A, CR/IR/AR:H); modified metrics replace base metrics where not X.
// Nomenclature names the score: CVSS-B, CVSS-BT (E not X), CVSS-BE (an environmental
// metric not X) or CVSS-BTE. Supplemental metrics are parsed and kept, and do not
// change the score.
//
// # Rounding rule for CVSS v4.0 (exact decimal, round half up)
//
// The whole v4.0 computation is done in integer arithmetic: scores in tenths,
// severity levels as integers and the proportional distances over a common
// denominator (840, the least common multiple of the MacroVector depths). The exact
// rational score is then rounded to one decimal with ties rounded up (half up).
//
// This matters for vectors whose exact score is x.x5: FIRST's JavaScript calculator
// computes in binary floating point (e.g. 5.6499999999999995 instead of 5.65) and
// then rounds down, and go-cvss follows it on most of them; the Red Hat
// implementation (Python, exact decimal) rounds up. The specification defines the
// score as "rounded to one decimal place" of the real value, so this package follows
// the exact value and agrees with Red Hat's expected scores (see
// cvss40_rounding_edge_cases.csv in the shared test data).
//
// # JSON
//
// Result marshals to the CLI contract: "vector", "version", "base_score",
// "severity", "score", and when the vector has them "temporal_score" and
// "environmental_score" (v3) or "nomenclature" (always for v4) and "cvss_b_score"
// (v4, when not CVSS-B). Scores are written with one decimal (10.0, 0.0). See Result.
package cvss
