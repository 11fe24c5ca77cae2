package ws_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/query-api/ws"
)

func TestFilterMatches(t *testing.T) {
	ch := projections.Change{
		Projection: "findings",
		Severity:   "high",
		AssetID:    "assets-asset-1",
		Event:      events.Envelope{Type: "FindingOpened", StreamID: "vulns-finding-1"},
	}
	noSev := ch
	noSev.Severity = ""
	cases := []struct {
		name string
		f    ws.Filter
		c    projections.Change
		want bool
	}{
		{"empty filter matches all", ws.Filter{}, ch, true},
		{"type listed", ws.Filter{Types: []string{"AssetRegistered", "FindingOpened"}}, ch, true},
		{"type not listed", ws.Filter{Types: []string{"AssetRegistered"}}, ch, false},
		{"stream listed", ws.Filter{Streams: []string{"vulns-finding-1"}}, ch, true},
		{"stream is exact, not a prefix", ws.Filter{Streams: []string{"vulns-finding"}}, ch, false},
		{"severity listed", ws.Filter{Severity: []string{"critical", "high"}}, ch, true},
		{"severity not listed", ws.Filter{Severity: []string{"critical"}}, ch, false},
		{"severity filter drops changes without severity", ws.Filter{Severity: []string{"high"}}, noSev, false},
		{"projection listed", ws.Filter{Projections: []string{"findings"}}, ch, true},
		{"projection not listed", ws.Filter{Projections: []string{"assets"}}, ch, false},
		{"all lists match", ws.Filter{Types: []string{"FindingOpened"}, Streams: []string{"vulns-finding-1"}, Severity: []string{"high"}, Projections: []string{"findings"}}, ch, true},
		{"one list fails", ws.Filter{Types: []string{"FindingOpened"}, Streams: []string{"vulns-finding-1"}, Severity: []string{"low"}, Projections: []string{"findings"}}, ch, false},
		{"case-sensitive type", ws.Filter{Types: []string{"findingopened"}}, ch, false},
	}
	for _, c := range cases {
		if got := c.f.Matches(c.c); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFilterNormalize(t *testing.T) {
	f, err := ws.Filter{Types: []string{" A ", "B", "A", ""}, Severity: []string{"HIGH", "high", "Low"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Types, ",") != "A,B" || strings.Join(f.Severity, ",") != "high,low" || f.Streams == nil || len(f.Streams) != 0 || f.Projections == nil {
		t.Fatalf("normalized %+v", f)
	}

	many := make([]string, ws.MaxFilterValues+1)
	for i := range many {
		many[i] = "t" + strings.Repeat("x", i%5)
	}
	bad := []struct {
		f     ws.Filter
		field string
	}{
		{ws.Filter{Types: many}, "types"},
		{ws.Filter{Streams: []string{strings.Repeat("s", ws.MaxFilterValueLen+1)}}, "streams"},
		{ws.Filter{Severity: []string{"urgent"}}, "severity"},
		{ws.Filter{Projections: many}, "projections"},
	}
	for _, b := range bad {
		_, err := b.f.Normalize()
		var fe *ws.FilterError
		if !errors.As(err, &fe) || fe.Field != b.field {
			t.Errorf("%+v: err %v, want a FilterError on %s", b.f, err, b.field)
		}
	}
	if _, err := (ws.Filter{Streams: []string{strings.Repeat("s", ws.MaxFilterValueLen)}}).Normalize(); err != nil {
		t.Errorf("a value of exactly MaxFilterValueLen bytes: %v", err)
	}
}

func TestFilterFromQuery(t *testing.T) {
	q, _ := url.ParseQuery("types=A,B&types=C&severity=critical,%20high&streams=s1&projections=findings,assets&token=ignored")
	f, err := ws.FilterFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Types, ",") != "A,B,C" || strings.Join(f.Severity, ",") != "critical,high" ||
		strings.Join(f.Streams, ",") != "s1" || strings.Join(f.Projections, ",") != "findings,assets" {
		t.Fatalf("%+v", f)
	}
	q, _ = url.ParseQuery("types=" + strings.Repeat("a,", ws.MaxFilterValues*10))
	if _, err := ws.FilterFromQuery(q); err == nil {
		t.Fatal("too many query values accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (ws.Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	err := ws.Config{MaxClients: -1, QueueBytes: -1, StuckTimeout: -1, PingInterval: 2e9, PongWait: 1e9}.Validate()
	if err == nil || !strings.Contains(err.Error(), "MaxClients") || !strings.Contains(err.Error(), "QueueBytes") ||
		!strings.Contains(err.Error(), "StuckTimeout") || !strings.Contains(err.Error(), "below PongWait") {
		t.Fatalf("Validate = %v, want every problem", err)
	}
}
