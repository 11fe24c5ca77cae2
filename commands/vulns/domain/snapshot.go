package domain

import (
	"encoding/json"

	"github.com/socplatform/soc/commands/internal/es"
)

// findingSnapshotSchema is the version of the Finding snapshot's shape: bump it whenever a field
// is added to Finding, removed or changes meaning, so that snapshots taken before are ignored
// (the stream is replayed) instead of restoring a state without it.
const findingSnapshotSchema = 1

// findingFields is Finding without its methods: its exported fields encode as they are.
type findingFields Finding

type findingSnapshot struct {
	State  findingFields `json:"state"`
	Opened bool          `json:"opened"`
}

// SnapshotSchema implements es.Snapshotter.
func (f *Finding) SnapshotSchema() int { return findingSnapshotSchema }

// MarshalSnapshot implements es.Snapshotter.
func (f *Finding) MarshalSnapshot() ([]byte, error) {
	return json.Marshal(findingSnapshot{State: findingFields(*f), Opened: f.opened})
}

// UnmarshalSnapshot implements es.Snapshotter.
func (f *Finding) UnmarshalSnapshot(data []byte) error {
	var s findingSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*f = Finding(s.State)
	f.opened = s.Opened
	return nil
}

var _ es.Snapshotter = (*Finding)(nil)
