package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
)

// TestQueryPlansUseIndexes: on a populated, analysed table every audit filter is answered from its
// index in position order (EXPLAIN with the query's values, as QueryEvents plans it), for
// rare values, where the indexes matter (for a common value, walking the positions and filtering
// reads little more than a page, and the planner may rightly prefer it).
func TestQueryPlansUseIndexes(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	// Skewed like real data: one common type and actor, rare ones, few correlation ids.
	const streams, perStream = 400, 100
	for i := 0; i < streams; i++ {
		stream := events.NewStreamID("suite", "thing")
		batch := make([]events.Envelope, perStream)
		for j := range batch {
			n := i*perStream + j
			typ, actor := "Common", "system"
			if n%1000 == 7 {
				typ, actor = fmt.Sprintf("Rare%d", n%3), fmt.Sprintf("user:%d", n%5)
			}
			batch[j] = events.Envelope{EventID: events.NewEventID(), Type: typ, SchemaVersion: 1,
				Data: json.RawMessage(`{"name":"x"}`), Actor: actor}
			if n%50 == 0 {
				batch[j].CorrelationID = fmt.Sprintf("corr-%d", n/200)
			}
		}
		if _, err := s.Append(ctx, stream, events.NoStream, batch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE "+quoteIdent(s.cfg.Schema)+".events"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cases := []struct {
		name string
		q    events.EventQuery
		want []string
	}{
		{"type", events.EventQuery{Types: []string{"Rare1"}, Limit: 50}, []string{"events_type_position_idx"}},
		{"types", events.EventQuery{Types: []string{"Rare0", "Rare1", "Rare2"}, Backwards: true, Limit: 50}, []string{"events_type_position_idx"}},
		{"actor", events.EventQuery{Actor: "user:1", After: 10, Limit: 50}, []string{"events_actor_position_idx"}},
		{"correlation", events.EventQuery{CorrelationID: "corr-10", Backwards: true}, []string{"events_correlation_position_idx"}},
		{"stream", events.EventQuery{StreamID: "suite-thing-x"}, []string{"events_stream_version_key"}},
		{"window", events.EventQuery{From: now.Add(-time.Hour), To: now, Limit: 50}, []string{"Recursive Union", "events_pkey"}},
		{"to+type", events.EventQuery{To: now, Types: []string{"Rare2"}, Backwards: true, Limit: 50}, []string{"Recursive Union", "events_type_position_idx"}},
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for i, c := range cases {
		q, err := c.q.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		text, args := buildQuery(quoteIdent(s.cfg.Schema), q)
		for _, mode := range []string{"force_custom_plan"} { // QueryEvents is planned with its values
			if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("qe_%d_%s", i, mode)
			if _, err := conn.Exec(ctx, "PREPARE "+name+" AS "+text); err != nil {
				t.Fatalf("%s: prepare: %v", c.name, err)
			}
			rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+name+"("+literals(args)+")")
			if err != nil {
				t.Fatalf("%s: explain: %v", c.name, err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: explain: %v", c.name, err)
			}
			all := strings.Join(plan, "\n")
			t.Logf("%s (%s):\n%s", c.name, mode, all)
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("%s (%s): plan does not use %s", c.name, mode, w)
				}
			}
			if strings.Contains(all, "Seq Scan on events") { // positions is one row
				t.Errorf("%s (%s): plan scans the table", c.name, mode)
			}
		}
	}
}

// literals renders query arguments as SQL literals for EXPLAIN EXECUTE (test data only).
func literals(args []any) string {
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = quoteLiteral(v)
		case []string:
			q := make([]string, len(v))
			for j := range v {
				q[j] = quoteLiteral(v[j])
			}
			out[i] = "ARRAY[" + strings.Join(q, ", ") + "]::text[]"
		case time.Time:
			out[i] = quoteLiteral(v.Format(time.RFC3339Nano)) + "::timestamptz"
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(out, ", ")
}
