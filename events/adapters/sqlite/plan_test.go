package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
)

// TestQueryPlansUseIndexes: every audit filter is answered from its index, in position order,
// without sorting the matches and without scanning the table (EXPLAIN QUERY PLAN).
func TestQueryPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	cases := []struct {
		name string
		q    events.EventQuery
		want []string // index names the plan must use
	}{
		{"type", events.EventQuery{Types: []string{"A"}}, []string{"events_type"}},
		{"types", events.EventQuery{Types: []string{"A", "B", "C"}, Backwards: true}, []string{"events_type"}},
		{"actor", events.EventQuery{Actor: "user:a", After: 10}, []string{"events_actor"}},
		{"correlation", events.EventQuery{CorrelationID: "c", Before: 100, Backwards: true}, []string{"events_correlation"}},
		{"stream", events.EventQuery{StreamID: "s"}, []string{"sqlite_autoindex_events_2"}},
		{"window", events.EventQuery{From: now.Add(-time.Hour), To: now}, []string{"INTEGER PRIMARY KEY (rowid>? AND rowid<?)"}},
		{"from", events.EventQuery{From: now.Add(-time.Hour)}, []string{"INTEGER PRIMARY KEY (rowid>?)"}},
		{"to", events.EventQuery{To: now}, []string{"INTEGER PRIMARY KEY (rowid>? AND rowid<?)"}},
		{"type+actor", events.EventQuery{Types: []string{"A"}, Actor: "user:a"}, nil},
		{"all", events.EventQuery{Backwards: true}, nil},
	}
	for _, c := range cases {
		q, err := c.q.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		text, args := buildQuery(q)
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, " | ")
		t.Logf("%-12s %s", c.name, all)
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: plan does not use %s: %s", c.name, w, all)
			}
		}
		_ = fmt.Sprint()
	}
}
