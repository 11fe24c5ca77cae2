package app

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// parseTTL reads a lifetime: "<n>m", "<n>h", "<n>d" or a Go duration ("2160h0m0s"), positive
// and at most max.
func parseTTL(field, ttl string, max time.Duration) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(ttl, "d"); ok {
		var days int
		if days, err = strconv.Atoi(n); err == nil {
			d = time.Duration(days) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(ttl)
	}
	switch {
	case err != nil || d <= 0:
		return 0, problem.Invalid(field, "a lifetime is <n>m, <n>h, <n>d or a duration such as 2160h0m0s")
	case d > max:
		return 0, problem.Rule(field, "at most %s", max)
	}
	return d, nil
}

// IssuedToken is the answer to issuing an API token: the only time its secret is shown.
type IssuedToken struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssueToken issues an API token to the calling user, or (users:admin) to the user
// cmd.UserID names. Its scopes must be among the owner's permissions (default: all of them, as
// of now), its teams among the owner's (unless the owner sees every team): a token never holds
// more than its owner. An API token cannot issue tokens; the platform itself (a system
// principal with users:admin, such as `soc token create --data`) issues them to a named user only.
func (s *Service) IssueToken(ctx context.Context, caller access.Principal, cmd contracts.IssueApiToken, inv es.Invocation) (IssuedToken, error) {
	if caller.Kind != access.KindUser && (caller.Kind != access.KindSystem || cmd.UserID == "") {
		return IssuedToken{}, problem.Forbidden("API tokens are issued by a signed-in user")
	}
	ttl, err := parseTTL("/ttl", cmd.TTL, s.cfg.MaxTokenTTL)
	if err != nil {
		return IssuedToken{}, err
	}
	owner := caller
	if cmd.UserID != "" && cmd.UserID != caller.ID {
		if err := requireAdmin(caller); err != nil {
			return IssuedToken{}, err
		}
		if err := s.userExists(ctx, "/user_id", cmd.UserID); err != nil {
			return IssuedToken{}, err
		}
		if owner, err = s.principalOf(cmd.UserID); err != nil {
			return IssuedToken{}, err
		}
	}
	// A token's teams are kept by id (named by id or by name here); principals carry names.
	var names []string
	s.read(func(d *directory) {
		var ids []string
		if ids, err = d.resolveTeams("/teams", cmd.Teams); err == nil {
			cmd.Teams = ids
			for _, id := range ids {
				names = append(names, d.st.Teams[id].Name)
			}
		}
	})
	if err != nil {
		return IssuedToken{}, err
	}
	if !owner.AllTeams() {
		for i, t := range names {
			if !owner.SeesTeam(t) {
				return IssuedToken{}, problem.Rule("/teams/"+strconv.Itoa(i), "%s is not one of the owner's teams", t)
			}
		}
	}
	plain, hash, err := s.deps.Secrets.New(PrefixAPIToken)
	if err != nil {
		return IssuedToken{}, err
	}
	in := domain.TokenIssue{Name: cmd.Name, Owner: owner.ID, OwnerPerms: owner.Perms, Teams: cmd.Teams,
		DefinitionID: cmd.DefinitionID, SecretHash: hash, ExpiresAt: s.now().Add(ttl).UTC().Truncate(time.Second)}
	for _, p := range cmd.Scopes {
		in.Scopes = append(in.Scopes, access.Permission(p))
	}
	if len(cmd.Scopes) == 0 {
		in.Scopes = slices.Clone(owner.Perms)
	}
	id := events.NewStreamID("identity", "token")
	var t domain.APIToken
	inv = invocation(caller, inv)
	inv.Meta.IdempotencyKey, inv.Fingerprint = "", "" // the answer holds a new secret: nothing to replay
	if _, err := s.exec(ctx, id, &t, inv, func() ([]es.Change, error) { return t.Issue(in) }); err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{ID: id, Token: plain, ExpiresAt: in.ExpiresAt}, nil
}

// TokenView is an API token as listed: never its secret or hash.
type TokenView struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	OwnerID      string              `json:"owner_id"`
	Scopes       []access.Permission `json:"scopes"`
	Teams        []string            `json:"teams,omitempty"`
	DefinitionID string              `json:"definition_id,omitempty"`
	ExpiresAt    time.Time           `json:"expires_at"`
	LastUsedAt   *time.Time          `json:"last_used_at,omitempty"`
	Revoked      bool                `json:"revoked"`
}

// Tokens lists the caller's API tokens, or everyone's with users:admin, by id (issue order).
func (s *Service) Tokens(caller access.Principal) []TokenView {
	all := caller.Can(access.UsersAdmin)
	owner := cmp.Or(caller.UserID, caller.ID)
	out := []TokenView{}
	s.read(func(d *directory) {
		for _, t := range d.st.Tokens {
			if !all && t.Owner != owner {
				continue
			}
			v := TokenView{ID: t.ID, Name: t.Name, OwnerID: t.Owner, Scopes: slices.Clone(t.Scopes), Teams: t.Teams,
				DefinitionID: t.DefinitionID, ExpiresAt: t.ExpiresAt, Revoked: t.Revoked}
			if u, ok := d.lastUsed[t.ID]; ok {
				v.LastUsedAt = &u
			}
			out = append(out, v)
		}
	})
	slices.SortFunc(out, func(a, b TokenView) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// RevokeToken revokes an API token: one's own, or anyone's with users:admin. Another's token
// is a 404 to whoever may not revoke it.
func (s *Service) RevokeToken(ctx context.Context, caller access.Principal, id string, inv es.Invocation) (es.Outcome, error) {
	var owner string
	s.read(func(d *directory) {
		if t := d.st.Tokens[id]; t != nil {
			owner = t.Owner
		}
	})
	if owner != cmp.Or(caller.UserID, caller.ID) && !caller.Can(access.UsersAdmin) {
		return es.Outcome{}, notFound("API token", id)
	}
	out, err := es.ExecExisting(ctx, s.deps.Store, "API token", id, domain.IsTokenID, invocation(caller, inv),
		func(t *domain.APIToken) ([]es.Change, error) { return t.Revoke("revoked by " + caller.Actor()) })
	if err != nil {
		return out, err
	}
	return out, s.sync(ctx)
}
