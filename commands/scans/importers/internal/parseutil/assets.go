package parseutil

import "github.com/socplatform/soc/commands/scans/importers"

// AssetSet keeps a report's assets in the order first added, one per key: the XML and ZAP
// parsers meet the same host or site once per finding. The zero value is an empty set.
type AssetSet struct {
	list []importers.Asset
	idx  map[string]int
}

// Get returns the asset with key, or nil. The pointer is valid until the next Add.
func (s *AssetSet) Get(key string) *importers.Asset {
	if i, ok := s.idx[key]; ok {
		return &s.list[i]
	}
	return nil
}

// Add appends a, whose key the set must not hold yet, and returns it in the set. The pointer is
// valid until the next Add.
func (s *AssetSet) Add(a importers.Asset) *importers.Asset {
	if s.idx == nil {
		s.idx = map[string]int{}
	}
	s.idx[a.Key] = len(s.list)
	s.list = append(s.list, a)
	return &s.list[len(s.list)-1]
}

// Assets is the assets in the order first added; never nil.
func (s *AssetSet) Assets() []importers.Asset {
	if s.list == nil {
		return []importers.Asset{}
	}
	return s.list
}
