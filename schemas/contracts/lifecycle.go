package contracts

// FindingStatusAfter is the finding lifecycle as the events record it: the status each lifecycle
// event leaves a finding in. The write side's aggregate and the read side's folds both follow it,
// so they cannot disagree on what an event means. (Hand-written: the schemas do not say it.)
var FindingStatusAfter = map[string]FindingStatus{
	TypeFindingOpened:              FindingStatusOpen,
	TypeFindingTriaged:             FindingStatusTriaged,
	TypeFindingRemediationStarted:  FindingStatusInRemediation,
	TypeFindingResolved:            FindingStatusResolved,
	TypeFindingClosed:              FindingStatusClosed,
	TypeFindingReopened:            FindingStatusReopened,
	TypeFindingMarkedFalsePositive: FindingStatusFalsePositive,
	TypeFindingMarkedDuplicate:     FindingStatusDuplicate,
	TypeFindingRiskAccepted:        FindingStatusRiskAccepted,
}
