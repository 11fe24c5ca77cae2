package app

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Dump renders the whole lookup as sorted text, so tests can compare a lookup restored from a
// snapshot with one that replayed $all.
func (l *Lookup) Dump() string {
	st := lookupFold{l}.Capture()
	lines := []string{fmt.Sprintf("cursor %d", l.Position())}
	for _, a := range st.Assets {
		b, _ := json.Marshal(a)
		lines = append(lines, fmt.Sprintf("asset %s %s", a.ID, b))
	}
	for id, v := range st.Versions {
		lines = append(lines, fmt.Sprintf("version %s %d", id, v))
	}
	for id, c := range st.Criticality {
		lines = append(lines, fmt.Sprintf("criticality %s %s", id, c))
	}
	for id, team := range st.Owners {
		lines = append(lines, fmt.Sprintf("owner %s %s", id, team))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
