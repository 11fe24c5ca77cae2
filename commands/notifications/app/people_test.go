package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDirectoryAsPeople(t *testing.T) {
	d, err := NewDirectory(Directory{
		Users: []User{
			{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+14155550100", TimeZone: "Europe/Paris", Lead: "lee", Channels: []string{email, sms}},
			{ID: "lee", Email: "lee@example.com"},
		},
		Teams:    []Team{{Name: "platform", Members: []string{"alice"}, Lead: "lee"}},
		Fallback: []string{"lee"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pp := d.People()
	p, ok, err := pp.Person(ctx, "ALICE@example.com")
	if err != nil || !ok || p.ID != "alice" || p.TimeZone != "Europe/Paris" || p.Lead != "lee" || p.Phone != "+14155550100" ||
		!slices.Equal(p.Channels, []string{email, sms}) {
		t.Fatalf("Person by e-mail: %+v %v %v", p, ok, err)
	}
	if _, ok, _ := pp.Person(ctx, "nobody"); ok {
		t.Fatal("an unknown person was found")
	}
	g, ok, err := pp.Team(ctx, "platform")
	if err != nil || !ok || !slices.Equal(g.Members, []string{"alice"}) || g.Lead != "lee" {
		t.Fatalf("Team: %+v %v %v", g, ok, err)
	}
	if f, _ := pp.Fallback(ctx); !slices.Equal(f, []string{"lee"}) {
		t.Fatalf("Fallback %v", f)
	}
	if _, err := NewDirectory(Directory{Users: []User{{ID: "x", TimeZone: "Mars/Olympus"}}}); err == nil ||
		!strings.Contains(err.Error(), `users[0].time_zone "Mars/Olympus"`) {
		t.Fatalf("a bad time zone: %v", err)
	}
}

// memPeople is the People port as another adapter (identity's read state) would implement it.
type memPeople struct {
	people map[string]Person
	teams  map[string]Group
	calls  int
}

func (m *memPeople) Person(_ context.Context, id string) (Person, bool, error) {
	m.calls++
	p, ok := m.people[id]
	return p, ok, nil
}

func (m *memPeople) Team(_ context.Context, name string) (Group, bool, error) {
	g, ok := m.teams[name]
	return g, ok, nil
}

func (m *memPeople) Fallback(context.Context) ([]string, error) { return nil, nil }

func TestPlannerReadsRecipientsThroughThePeoplePort(t *testing.T) {
	people := &memPeople{
		people: map[string]Person{"dana": {ID: "dana", Name: "Dana", Email: "dana@example.com", Lead: "erin"},
			"erin": {ID: "erin", Name: "Erin", Channels: []string{ws}}},
		teams: map[string]Group{"identity-team": {Name: "identity-team", Members: []string{"dana"}, Lead: "erin"}},
	}
	e := newPlannerEnvWith(t, func(c *PlannerConfig) { c.People, c.SLADigestWindow = people, -1 }, email)
	asset := e.asset("idp-1", "production", "identity-team")
	due := start.Add(-26 * time.Hour).Truncate(time.Second)
	f := e.finding("scan-x", asset, "high", "Open redirect", "") // unowned: the asset's team
	e.setDue(f, due)
	e.add(f, "SLABreached", "", map[string]any{"due_at": due.Format(time.RFC3339), "breached_at": due.Format(time.RFC3339),
		"severity": "high", "status": "open"})
	e.requests()
	e.mustHandle("breach-1", CmdSLABreach, map[string]any{"finding_id": f, "due_at": due})
	wantWhos(t, "breach of a team's finding", e.requests(), "erin/websocket")
	if people.calls == 0 {
		t.Fatal("the planner did not ask the port")
	}
}
