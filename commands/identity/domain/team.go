package domain

import (
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Team is a group of users that owns assets (and so sees their findings); its lead is one of
// its members.
type Team struct {
	ID      string
	Name    string
	Lead    string
	Members []string // user ids, sorted
	Version int64
}

// IsTeamID reports whether id is a team's stream id.
func IsTeamID(id string) bool {
	return strings.HasPrefix(id, "identity-team-") && events.ValidStreamID(id)
}

// Exists reports whether the team was created.
func (t *Team) Exists() bool { return t.ID != "" }

// Has reports whether user is a member.
func (t *Team) Has(user string) bool { return slices.Contains(t.Members, user) }

// Create creates the team; a lead is added as its first member (the lead is always a member).
func (t *Team) Create(name, lead string) ([]es.Change, error) {
	if t.Exists() {
		return nil, &ExistsError{What: "team", ID: t.ID}
	}
	if strings.TrimSpace(name) == "" {
		return nil, rule("/name", "a team name is required")
	}
	changes := []es.Change{{Type: contracts.TypeTeamCreated, Data: contracts.TeamCreated{Name: name}}}
	if lead != "" {
		changes = append(changes, es.Change{Type: contracts.TypeTeamMemberAdded, Data: contracts.TeamMemberAdded{UserID: lead}},
			es.Change{Type: contracts.TypeTeamLeadChanged, Data: contracts.TeamLeadChanged{Lead: lead}})
	}
	return changes, nil
}

// AddMember adds user (nothing when a member already); asLead also makes them the lead.
func (t *Team) AddMember(user string, asLead bool) []es.Change {
	var changes []es.Change
	if !t.Has(user) {
		changes = append(changes, es.Change{Type: contracts.TypeTeamMemberAdded, Data: contracts.TeamMemberAdded{UserID: user}})
	}
	if asLead && t.Lead != user {
		changes = append(changes, es.Change{Type: contracts.TypeTeamLeadChanged, Data: contracts.TeamLeadChanged{Lead: user}})
	}
	return changes
}

// ChangeLead makes a member the lead.
func (t *Team) ChangeLead(user string) ([]es.Change, error) {
	if !t.Has(user) {
		return nil, rule("/lead", "%s is not a member of team %s: the lead must be a member", user, t.ID)
	}
	if t.Lead == user {
		return nil, nil
	}
	return []es.Change{{Type: contracts.TypeTeamLeadChanged, Data: contracts.TeamLeadChanged{Lead: user}}}, nil
}

// RemoveMember removes user. The lead cannot leave before another lead is named.
func (t *Team) RemoveMember(user string) ([]es.Change, error) {
	if !t.Has(user) {
		return nil, &StateError{What: "team", ID: t.ID, Reason: user + " is not a member"}
	}
	if t.Lead == user {
		return nil, rule("/user_id", "%s leads team %s: name another lead first", user, t.ID)
	}
	return []es.Change{{Type: contracts.TypeTeamMemberRemoved, Data: contracts.TeamMemberRemoved{UserID: user}}}, nil
}

// StreamVersion is the version of the last event applied.
func (t *Team) StreamVersion() int64 { return t.Version }

// Apply implements es.Aggregate.
func (t *Team) Apply(e *events.Envelope) error {
	t.Version = e.Version
	switch e.Type {
	case contracts.TypeTeamCreated:
		return events.OnPayload(e.Data, func(d contracts.TeamCreated) {
			t.ID, t.Name = e.StreamID, d.Name
			if d.Lead != "" { // a lead named at creation is a member
				t.Lead, t.Members = d.Lead, []string{d.Lead}
			}
		})
	case contracts.TypeTeamLeadChanged:
		return events.OnPayload(e.Data, func(d contracts.TeamLeadChanged) {
			t.Lead = d.Lead
		})
	case contracts.TypeTeamMemberAdded:
		return events.OnPayload(e.Data, func(d contracts.TeamMemberAdded) {
			t.Members = insertSorted(t.Members, d.UserID)
		})
	case contracts.TypeTeamMemberRemoved:
		return events.OnPayload(e.Data, func(d contracts.TeamMemberRemoved) {
			t.Members = remove(t.Members, d.UserID)
		})
	}
	return nil
}
