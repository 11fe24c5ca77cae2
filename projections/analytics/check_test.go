package analytics_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/ownership"
)

func TestPrepare(t *testing.T) {
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	q := analytics.Query{From: from, To: from.AddDate(0, 0, 14), Unit: analytics.Week,
		Filter: analytics.Filter{Tags: []string{"PCI", "internet", "pci"}, Teams: []string{"red", "blue", "red"}, Scope: ownership.Scope{"b", "", "a", "b"}}}
	got, bs, err := analytics.Prepare(q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Tags, []string{"internet", "pci"}) || !reflect.DeepEqual(got.Teams, []string{"blue", "red"}) ||
		!reflect.DeepEqual(got.Scope, ownership.Scope{"a", "b"}) || got.Now.IsZero() || len(bs) != 2 {
		t.Errorf("Prepare = %+v, %d buckets", got.Filter, len(bs))
	}
	empty := q
	empty.Scope = ownership.Scope{}
	if got, _, _ := analytics.Prepare(empty); got.Scope == nil || len(got.Scope) != 0 {
		t.Errorf("an empty scope became %#v: it must still see nothing", got.Scope)
	}
	for _, c := range []struct {
		param string
		edit  func(q *analytics.Query)
	}{
		{"tags", func(q *analytics.Query) { q.Tags = []string{strings.Repeat("x", analytics.MaxFilterLen+1)} }},
		{"scanners", func(q *analytics.Query) { q.Scanners = []string{""} }},
		{"environments", func(q *analytics.Query) { q.Environments = make([]string, analytics.MaxFilterValues+1) }},
		{"severities", func(q *analytics.Query) { q.Severities = []string{"High"} }},
		{"bucket", func(q *analytics.Query) { q.Unit = "" }},
	} {
		bad := q
		c.edit(&bad)
		var pe *analytics.ParamError
		if _, _, err := analytics.Prepare(bad); !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("%s: err = %v", c.param, err)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	o, err := analytics.Options{}.Check()
	if err != nil || o != (analytics.Options{Limit: 10, DueWithin: 7 * 24 * time.Hour, StaleAfter: 90 * 24 * time.Hour}) {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	for _, c := range []struct {
		param string
		o     analytics.Options
	}{
		{"limit", analytics.Options{Limit: 1001}}, {"limit", analytics.Options{Limit: -1}},
		{"due_within", analytics.Options{DueWithin: 400 * 24 * time.Hour}}, {"stale_after", analytics.Options{StaleAfter: -1}},
	} {
		var pe *analytics.ParamError
		if _, err := c.o.Check(); !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("%+v: err = %v, want one naming %s", c.o, err, c.param)
		}
	}
}

func TestNearestRank(t *testing.T) {
	// The smallest rank with at least p% of n values at or below it.
	for _, c := range []struct{ p, n, want int }{{50, 1, 1}, {90, 1, 1}, {50, 2, 1}, {90, 2, 2}, {50, 10, 5}, {90, 10, 9}, {90, 11, 10}, {50, 7, 4}} {
		if got := analytics.NearestRank(c.p, c.n); got != c.want {
			t.Errorf("NearestRank(%d, %d) = %d, want %d", c.p, c.n, got, c.want)
		}
	}
}
