package cvss

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Vector is a parsed, scored CVSS vector: *V3 or *V4.
type Vector interface {
	// Version is "3.0", "3.1" or "4.0".
	Version() string
	// BaseScore is the v3 base score, or the v4 score of the vector as written.
	BaseScore() float64
	// Severity is the qualitative rating of BaseScore: None, Low, Medium, High or Critical.
	Severity() string
	// Metric returns the value given for a metric and whether the vector carries it.
	Metric(name string) (string, bool)
	// String is the canonical form of the vector (specification order).
	String() string
}

var (
	_ Vector = (*V3)(nil)
	_ Vector = (*V4)(nil)
)

// Parse parses and scores a CVSS v3.0, v3.1 or v4.0 vector, chosen by its prefix.
// Errors are always *Error.
func Parse(vector string) (Vector, error) {
	prefix, _, _ := splitPrefix(vector)
	switch {
	case vector == "":
		return nil, &Error{Vector: vector, Reason: ReasonEmptyVector}
	case prefix == "CVSS:4.0":
		return ParseV4(vector)
	case strings.HasPrefix(prefix, "CVSS:3."):
		return ParseV3(vector)
	}
	return nil, &Error{Vector: vector, Value: prefix, Reason: ReasonBadPrefix}
}

// Severity ratings (the qualitative scale is the same in CVSS v3.1 and v4.0).
const (
	SeverityNone     = "None"
	SeverityLow      = "Low"
	SeverityMedium   = "Medium"
	SeverityHigh     = "High"
	SeverityCritical = "Critical"
)

// Rating returns the qualitative severity of a score: None 0.0, Low 0.1-3.9, Medium
// 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0.
func Rating(score float64) string {
	switch t := int(score*10 + 0.5); {
	case t <= 0:
		return SeverityNone
	case t < 40:
		return SeverityLow
	case t < 70:
		return SeverityMedium
	case t < 90:
		return SeverityHigh
	}
	return SeverityCritical
}

// tenths converts a score held in tenths of a point to float64 (the nearest float64
// to the one-decimal value, e.g. 98 -> 9.8).
func tenths(t int) float64 { return float64(t) / 10 }

// Result is the scoring of one vector, as the CLI prints it (`soc cvss VECTOR…`).
//
// JSON members, scores always written with one decimal (9.8, 10.0, 0.0):
//
//	vector               the input, unchanged
//	version              "3.0", "3.1" or "4.0"
//	base_score           v3: the base score; v4: the score of the vector as written
//	                     (CVSS-B, -BT, -BE or -BTE, see nomenclature)
//	severity             rating of base_score: None, Low, Medium, High, Critical
//	score                the score of the vector as written: v3 the environmental
//	                     score if it has environmental metrics, else the temporal score
//	                     if it has temporal metrics, else the base score; v4 = base_score
//	temporal_score       v3 only, when E, RL or RC is present with a value other than X
//	environmental_score  v3 only, when CR, IR, AR or an M* metric is present and not X
//	nomenclature         v4 only: "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE"
//	cvss_b_score         v4 only, when nomenclature is not CVSS-B: the score of the
//	                     base metrics alone
type Result struct {
	Vector             string   `json:"vector"`
	Version            string   `json:"version"`
	BaseScore          float64  `json:"base_score"`
	Severity           string   `json:"severity"`
	Score              float64  `json:"score"`
	TemporalScore      *float64 `json:"temporal_score,omitempty"`
	EnvironmentalScore *float64 `json:"environmental_score,omitempty"`
	Nomenclature       string   `json:"nomenclature,omitempty"`
	CVSSBScore         *float64 `json:"cvss_b_score,omitempty"`
}

// Score parses and scores a vector. Errors are always *Error, naming the bad metric.
func Score(vector string) (Result, error) {
	v, err := Parse(vector)
	if err != nil {
		return Result{}, err
	}
	return NewResult(vector, v), nil
}

// NewResult builds the Result of a parsed vector; vector is reported as given.
func NewResult(vector string, v Vector) Result {
	r := Result{
		Vector:    vector,
		Version:   v.Version(),
		BaseScore: v.BaseScore(),
		Severity:  v.Severity(),
		Score:     v.BaseScore(),
	}
	switch v := v.(type) {
	case *V3:
		if v.HasTemporal() {
			t := v.TemporalScore()
			r.TemporalScore = &t
			r.Score = t
		}
		if v.HasEnvironmental() {
			e := v.EnvironmentalScore()
			r.EnvironmentalScore = &e
			r.Score = e
		}
	case *V4:
		r.Nomenclature = v.Nomenclature()
		if r.Nomenclature != "CVSS-B" {
			b := v.CVSSBScore()
			r.CVSSBScore = &b
		}
	}
	return r
}

// oneDecimal is a score written to JSON with exactly one decimal.
type oneDecimal float64

func (f oneDecimal) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(f), 'f', 1, 64), nil
}

func optDecimal(p *float64) *oneDecimal {
	if p == nil {
		return nil
	}
	d := oneDecimal(*p)
	return &d
}

// MarshalJSON writes the members documented on Result, scores with one decimal.
// Decoding needs no custom code: the members decode into the float64 fields.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Vector             string      `json:"vector"`
		Version            string      `json:"version"`
		BaseScore          oneDecimal  `json:"base_score"`
		Severity           string      `json:"severity"`
		Score              oneDecimal  `json:"score"`
		TemporalScore      *oneDecimal `json:"temporal_score,omitempty"`
		EnvironmentalScore *oneDecimal `json:"environmental_score,omitempty"`
		Nomenclature       string      `json:"nomenclature,omitempty"`
		CVSSBScore         *oneDecimal `json:"cvss_b_score,omitempty"`
	}{
		Vector:             r.Vector,
		Version:            r.Version,
		BaseScore:          oneDecimal(r.BaseScore),
		Severity:           r.Severity,
		Score:              oneDecimal(r.Score),
		TemporalScore:      optDecimal(r.TemporalScore),
		EnvironmentalScore: optDecimal(r.EnvironmentalScore),
		Nomenclature:       r.Nomenclature,
		CVSSBScore:         optDecimal(r.CVSSBScore),
	})
}
