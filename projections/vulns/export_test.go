package vulns

// The read models' tests are the external package vulns_test (they span the assets and vulns
// read models, and assets imports vulns); these are the internals they check against.
var (
	SeverityRank = severityRank
	ScoreOr      = scoreOr
	FindingTable = findingTable
)

const NoDue = noDue
