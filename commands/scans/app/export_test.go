package app

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// LookupsDump renders every lookup of the importer as sorted text, so tests can compare an
// importer restored from a snapshot with one that replayed $all.
func (im *Importer) LookupsDump() string {
	st := im.capture()
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	add("cursor %d", im.follow.Position())
	for _, f := range st.Findings {
		b, _ := json.Marshal(f.State)
		add("finding %s scope=%s v%d pos=%d %s", f.ID, f.Scope, f.Version, f.Pos, b)
	}
	im.mu.RLock()
	for scope, ids := range im.scopes {
		for id := range ids {
			add("scope %s %s", scope, id)
		}
	}
	im.mu.RUnlock()
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// IndexDump renders the orchestrator's index as sorted text, so tests can compare an index
// restored from a snapshot with one that replayed $all.
func (o *Orchestrator) IndexDump() string {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	o.mu.RLock()
	defer o.mu.RUnlock()
	lines := []string{fmt.Sprintf("cursor %d", o.cursor.Position)}
	for id, d := range o.defs {
		b, _ := json.Marshal(d.def)
		lines = append(lines, fmt.Sprintf("def %s v%d exists=%v %s", id, d.version, d.def.Exists(), b))
	}
	for id, r := range o.runs {
		b, _ := json.Marshal(r)
		lines = append(lines, fmt.Sprintf("run %s v%d %s", id, o.runVersions[id], b))
	}
	for def, ids := range o.runsByDef {
		lines = append(lines, fmt.Sprintf("runs-of %s %v", def, ids))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// WrapFindingRecorder replaces the importer's finding recorder with wrap(recorder), so a test can
// make it misbehave.
func (im *Importer) WrapFindingRecorder(wrap func(FindingRecorder) FindingRecorder) {
	im.findingRec = wrap(im.findingRec)
}

// SetFindingBatches lowers the bounds an import keeps its memory within: reports of more than
// spillAbove findings are spilled to a temporary file, and findings are recorded recordBatch at
// a time, so small test reports take the paths a large report takes.
func (im *Importer) SetFindingBatches(spillAbove, recordBatch int) {
	im.spillAbove, im.recordBatch = spillAbove, recordBatch
}
