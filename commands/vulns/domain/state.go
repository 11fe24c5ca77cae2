package domain

// FindingState is a Finding's whole state in exported fields, for the in-memory lookups that
// keep Finding aggregates and snapshot them to disk (the scan importer's findings catalogue):
// an encoder sees only exported fields, and whether the finding was opened is not one.
type FindingState struct {
	Finding
	Opened bool
}

// State returns f's whole state.
func (f Finding) State() FindingState { return FindingState{Finding: f, Opened: f.opened} }

// Aggregate returns the Finding the state describes.
func (s FindingState) Aggregate() Finding {
	f := s.Finding
	f.opened = s.Opened
	return f
}
