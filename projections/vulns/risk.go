package vulns

import "math"

// SeverityPoints are the base points of one open finding by severity.
var SeverityPoints = map[string]float64{"critical": 10, "high": 5, "medium": 2, "low": 0.5, "info": 0}

// RiskMilli is a finding's points in thousandths, as the findings table stores them (it
// counts toward its asset only while the finding is open). Integers, so that the sum per asset
// is exact and does not depend on the order SQL adds the rows in.
func RiskMilli(f *Finding) int64 {
	p := SeverityPoints[f.Severity]
	if f.KEV {
		p *= 2
	}
	if f.EPSS != nil {
		p *= 1 + *f.EPSS
	}
	return int64(math.Round(p * 1000))
}
