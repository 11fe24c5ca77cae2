package domain

import (
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Invitation lets one person register with the roles and teams it names, once, before it
// expires. Only the hash of its secret is kept.
type Invitation struct {
	ID         string
	Email      string
	SecretHash string
	Roles      []string
	Teams      []string
	ExpiresAt  time.Time
	AcceptedBy string
	Version    int64
}

// IsInvitationID reports whether id is an invitation's stream id.
func IsInvitationID(id string) bool {
	return strings.HasPrefix(id, "identity-invitation-") && events.ValidStreamID(id)
}

// Exists reports whether the invitation was issued.
func (i *Invitation) Exists() bool { return i.ID != "" }

// Issue issues the invitation.
func (i *Invitation) Issue(email, secretHash string, roles, teams []string, expires time.Time) ([]es.Change, error) {
	if i.Exists() {
		return nil, &ExistsError{What: "invitation", ID: i.ID}
	}
	if len(roles) == 0 {
		return nil, rule("/roles", "an invitation grants at least one role")
	}
	return []es.Change{{Type: contracts.TypeInvitationIssued, Data: contracts.InvitationIssued{
		Email: NormalizeEmail(email), SecretSHA256: secretHash, Roles: uniqueSorted(roles), Teams: teams, ExpiresAt: expires.UTC()}}}, nil
}

// Accept uses the invitation for user: once, and before it expires.
func (i *Invitation) Accept(user string, now time.Time) ([]es.Change, error) {
	switch {
	case i.AcceptedBy != "":
		return nil, &StateError{What: "invitation", ID: i.ID, Reason: "was used already"}
	case !now.Before(i.ExpiresAt):
		return nil, &StateError{What: "invitation", ID: i.ID, Reason: "has expired"}
	}
	return []es.Change{{Type: contracts.TypeInvitationAccepted, Data: contracts.InvitationAccepted{UserID: user}}}, nil
}

// StreamVersion is the version of the last event applied.
func (i *Invitation) StreamVersion() int64 { return i.Version }

// Apply implements es.Aggregate.
func (i *Invitation) Apply(e *events.Envelope) error {
	i.Version = e.Version
	switch e.Type {
	case contracts.TypeInvitationIssued:
		return events.OnPayload(e.Data, func(d contracts.InvitationIssued) {
			i.ID, i.Email, i.SecretHash, i.Roles, i.Teams, i.ExpiresAt = e.StreamID, d.Email, d.SecretSHA256, d.Roles, d.Teams, d.ExpiresAt
		})
	case contracts.TypeInvitationAccepted:
		return events.OnPayload(e.Data, func(d contracts.InvitationAccepted) {
			i.AcceptedBy = d.UserID
		})
	}
	return nil
}
