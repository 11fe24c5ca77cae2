package readkit

import (
	"reflect"
	"testing"

	"github.com/socplatform/soc/projections"
)

// An empty filter value adds no condition; a given one one equality with its argument.
func TestQueryEqSkipsEmptyValues(t *testing.T) {
	q := NewQuery(projections.Postgres)
	q.Eq("a.status", "")
	q.Eq("a.owner_team", "platform")
	q.In("a.kind", nil)
	if got := q.WhereSQL(); got != " WHERE a.owner_team = $1" {
		t.Errorf("WhereSQL = %q", got)
	}
	if !reflect.DeepEqual(q.Args, []any{"platform"}) {
		t.Errorf("Args = %v", q.Args)
	}
}
