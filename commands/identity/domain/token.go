package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// APIToken is a credential for automation: it acts for its owner, narrowed to its scopes (and
// optionally to teams and one scan definition), until it expires or is revoked. Only the hash
// of its secret is kept. Its last use is not an event (one per request would swamp the log):
// the app keeps it in memory and in the read model.
type APIToken struct {
	ID           string
	Name         string
	Owner        string
	Scopes       []access.Permission
	Teams        []string
	DefinitionID string
	SecretHash   string
	ExpiresAt    time.Time
	Revoked      bool
	Version      int64
}

// IsTokenID reports whether id is an API token's stream id.
func IsTokenID(id string) bool {
	return strings.HasPrefix(id, "identity-token-") && events.ValidStreamID(id)
}

// Exists reports whether the token was issued.
func (t *APIToken) Exists() bool { return t.ID != "" }

// Valid reports whether the token may be used at now.
func (t *APIToken) Valid(now time.Time) bool {
	return t.Exists() && !t.Revoked && now.Before(t.ExpiresAt)
}

// TokenIssue is what issuing a token needs. OwnerPerms are the owner's permissions at issue
// time: a token never holds more than its owner.
type TokenIssue struct {
	Name         string
	Owner        string
	OwnerPerms   []access.Permission
	Scopes       []access.Permission
	Teams        []string
	DefinitionID string
	SecretHash   string
	ExpiresAt    time.Time
}

// Issue issues the token; its scopes must be a subset of the owner's permissions.
func (t *APIToken) Issue(in TokenIssue) ([]es.Change, error) {
	if t.Exists() {
		return nil, &ExistsError{What: "API token", ID: t.ID}
	}
	if len(in.Scopes) == 0 {
		return nil, rule("/scopes", "a token needs at least one scope")
	}
	data := contracts.ApiTokenIssuedV2{Name: in.Name, OwnerID: in.Owner, Teams: in.Teams, DefinitionID: in.DefinitionID,
		SecretSHA256: in.SecretHash, ExpiresAt: in.ExpiresAt.UTC()}
	for i, s := range in.Scopes {
		if !slices.Contains(in.OwnerPerms, s) {
			return nil, rule("/scopes/"+strconv.Itoa(i), "%s is not one of the owner's permissions", s)
		}
		data.Scopes = append(data.Scopes, contracts.PermissionV2(s))
	}
	return []es.Change{{Type: contracts.TypeApiTokenIssued, Data: data}}, nil
}

// Revoke revokes the token.
func (t *APIToken) Revoke(reason string) ([]es.Change, error) {
	if t.Revoked {
		return nil, &StateError{What: "API token", ID: t.ID, Reason: "is revoked already"}
	}
	return []es.Change{{Type: contracts.TypeApiTokenRevoked, Data: contracts.ApiTokenRevoked{Reason: reason}}}, nil
}

// StreamVersion is the version of the last event applied.
func (t *APIToken) StreamVersion() int64 { return t.Version }

// Apply implements es.Aggregate.
func (t *APIToken) Apply(e *events.Envelope) error {
	t.Version = e.Version
	switch e.Type {
	case contracts.TypeApiTokenIssued:
		return events.OnPayload(e.Data, func(d contracts.ApiTokenIssuedV2) {
			t.ID, t.Name, t.Owner, t.Teams, t.DefinitionID, t.SecretHash, t.ExpiresAt =
				e.StreamID, d.Name, d.OwnerID, d.Teams, d.DefinitionID, d.SecretSHA256, d.ExpiresAt
			t.Scopes = nil
			for _, s := range d.Scopes {
				t.Scopes = append(t.Scopes, access.Permission(s))
			}
		})
	case contracts.TypeApiTokenRevoked:
		t.Revoked = true
	}
	return nil
}
