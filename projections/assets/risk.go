package assets

import (
	"fmt"

	"github.com/socplatform/soc/projections/vulns"
)

// CriticalityFactor scales an asset's points by how much the organisation cares about it.
func CriticalityFactor(c string) float64 {
	switch c {
	case "critical":
		return 1.5
	case "high":
		return 1.2
	case "low":
		return 0.8
	}
	return 1.0 // medium, or not classified
}

// CriticalityRank orders criticalities for sorting (0 = not classified).
func CriticalityRank(c string) int64 {
	switch c {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// MaxRisk caps an asset's score.
const MaxRisk = 100

// RiskFormula says how an asset's score follows from its components.
const RiskFormula = "score = min(100, (critical + high + medium + low + info) × criticality_factor); " +
	"each severity term sums its open findings' points: base (critical 10, high 5, medium 2, low 0.5, info 0) " +
	"× 2 when the finding is KEV-listed × (1 + EPSS), rounded to 0.001 per finding"

// riskOf builds an asset's Risk from what asset_findings holds for it.
func riskOf(score float64, criticality string, af *vulns.AssetFindings) Risk {
	factor := CriticalityFactor(criticality)
	comps := make([]RiskComponent, 0, len(vulns.Severities)+2)
	for i, s := range vulns.Severities {
		comps = append(comps, RiskComponent{
			Name:   s,
			Value:  float64(af.Points[i]) / 1000,
			Detail: fmt.Sprintf("%d open %s finding(s) × %g points (×2 if KEV-listed, ×(1+EPSS))", af.Open[i], s, vulns.SeverityPoints[s]),
		})
	}
	crit := criticality
	if crit == "" {
		crit = "not classified"
	}
	comps = append(comps,
		RiskComponent{Name: "points", Value: float64(af.RiskMilli) / 1000, Detail: fmt.Sprintf("sum of the severity terms; %d open finding(s) KEV-listed", af.KEV)},
		RiskComponent{Name: "criticality_factor", Value: factor, Detail: "asset criticality " + crit + " (critical 1.5, high 1.2, medium 1.0, low 0.8, not classified 1.0)"},
	)
	return Risk{Score: score, Formula: RiskFormula, Components: comps}
}
