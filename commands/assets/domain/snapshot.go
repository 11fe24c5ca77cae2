package domain

import (
	"encoding/json"

	"github.com/socplatform/soc/commands/internal/es"
)

// assetSnapshotSchema is the version of the Asset snapshot's shape: bump it whenever a field is
// added to Asset, removed or changes meaning, so that snapshots taken before are ignored (the
// stream is replayed) instead of restoring a state without it.
const assetSnapshotSchema = 2 // 2: WeakKey, MergedInto, Merged

// assetFields is Asset without its methods: its exported fields encode as they are.
type assetFields Asset

type assetSnapshot struct {
	State      assetFields `json:"state"`
	Links      []Link      `json:"links,omitempty"`
	Registered bool        `json:"registered"`
}

// SnapshotSchema implements es.Snapshotter.
func (a *Asset) SnapshotSchema() int { return assetSnapshotSchema }

// MarshalSnapshot implements es.Snapshotter.
func (a *Asset) MarshalSnapshot() ([]byte, error) {
	return json.Marshal(assetSnapshot{State: assetFields(*a), Links: a.Links(), Registered: a.registered})
}

// UnmarshalSnapshot implements es.Snapshotter.
func (a *Asset) UnmarshalSnapshot(data []byte) error {
	var s assetSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*a = Asset(s.State)
	a.registered = s.Registered
	if len(s.Links) > 0 {
		a.links = make(map[Link]struct{}, len(s.Links))
		for _, l := range s.Links {
			a.links[l] = struct{}{}
		}
	}
	return nil
}

var _ es.Snapshotter = (*Asset)(nil)
