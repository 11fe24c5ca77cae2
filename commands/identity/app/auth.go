package app

import (
	"context"
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// MaxCredentialLen bounds a bearer credential: a longer one is refused before it is parsed or
// hashed.
const MaxCredentialLen = 4096

// Authenticate turns a bearer credential into the principal it acts as: an API token
// ("soc_pat_…") or an access token (JWT). Every refusal is a 401 with a short reason that never
// echoes the credential. A credential is refused when its user is disabled, its session revoked
// or expired, or (an API token) it is revoked or expired. The principal's permissions are
// computed now, from the user's current roles: a role revoked a second ago no longer counts.
func (s *Service) Authenticate(ctx context.Context, credential string) (access.Principal, error) {
	switch {
	case credential == "":
		return access.Principal{}, problem.Unauthorized("no credential")
	case len(credential) > MaxCredentialLen:
		return access.Principal{}, problem.Unauthorized("the credential is too long")
	case strings.HasPrefix(credential, PrefixAPIToken):
		return s.authenticateToken(ctx, credential)
	}
	return s.authenticateAccess(ctx, credential)
}

// lookup runs find on the directory; when it finds nothing, it catches up with the store once
// and tries again (a session or token another node created a moment ago).
func (s *Service) lookup(ctx context.Context, find func(d *directory) bool) error {
	ok := false
	s.read(func(d *directory) { ok = find(d) })
	if ok {
		return nil
	}
	if err := s.sync(ctx); err != nil {
		return err
	}
	s.read(func(d *directory) { find(d) })
	return nil
}

func (s *Service) authenticateAccess(ctx context.Context, credential string) (access.Principal, error) {
	now := s.now()
	claims, err := s.verified.verify(credential, now, s.deps.Keyring.Verify)
	if err != nil {
		return access.Principal{}, problem.Unauthorized("invalid access token")
	}
	var p access.Principal
	var refusal string
	err = s.lookup(ctx, func(d *directory) bool {
		sess, u := d.st.Sessions[claims.SessionID], d.st.Users[claims.Subject]
		switch {
		case sess == nil || u == nil:
			refusal = "unknown session"
			return false
		case sess.User != u.ID:
			refusal = "the token's session is another user's"
		case !sess.Live(now):
			refusal = "the session has ended"
		case !u.Active():
			refusal = "the account is disabled"
		default:
			refusal = ""
			p = d.principal(u)
			p.SessionID = sess.ID
		}
		return true
	})
	if err != nil {
		return access.Principal{}, err
	}
	if refusal != "" {
		return access.Principal{}, problem.Unauthorized("%s", refusal)
	}
	return p, nil
}

func (s *Service) authenticateToken(ctx context.Context, credential string) (access.Principal, error) {
	hash := s.deps.Secrets.Hash(credential)
	now := s.now()
	var p access.Principal
	var refusal, id string
	err := s.lookup(ctx, func(d *directory) bool {
		t := d.st.Tokens[d.tokenByHash[hash]]
		if t == nil {
			refusal = "unknown API token"
			return false
		}
		owner := d.st.Users[t.Owner]
		switch {
		case t.Revoked:
			refusal = "the API token was revoked"
		case !now.Before(t.ExpiresAt):
			refusal = "the API token has expired"
		case owner == nil || !owner.Active():
			refusal = "the API token's owner is disabled"
		default:
			refusal, id = "", t.ID
			p = tokenPrincipal(d, t, owner)
		}
		return true
	})
	if err != nil {
		return access.Principal{}, err
	}
	if refusal != "" {
		return access.Principal{}, problem.Unauthorized("%s", refusal)
	}
	s.dir.mu.Lock()
	s.dir.lastUsed[id], s.dir.unflushed[id] = now, now
	s.dir.mu.Unlock()
	return p, nil
}

// tokenPrincipal is what an API token acts as: its scopes narrowed to what its owner holds
// now (a role revoked after the token was issued is not kept by the token), its teams when it
// names some (as far as its owner still sees them; else its owner's), and its scan definition. Callers hold dir.mu.
func tokenPrincipal(d *directory, t *domain.APIToken, owner *domain.User) access.Principal {
	ownerPerms := d.permissions(owner.Roles)
	perms := []access.Permission{}
	for _, sc := range t.Scopes {
		if slices.Contains(ownerPerms, sc) {
			perms = append(perms, sc)
		}
	}
	slices.Sort(perms)
	ownerTeams := d.teamNamesOf(owner.ID)
	teams := ownerTeams
	if len(t.Teams) > 0 {
		// the token's teams, as far as its owner still sees them
		all := slices.Contains(ownerPerms, access.TeamsAll)
		teams = []string{}
		for _, id := range t.Teams { // kept by id; a principal names its teams
			team := d.st.Teams[id]
			if team != nil && (all || slices.Contains(ownerTeams, team.Name)) {
				teams = append(teams, team.Name)
			}
		}
	}
	return access.Principal{Kind: access.KindToken, ID: t.ID, UserID: owner.ID, Name: t.Name,
		Roles: slices.Clone(owner.Roles), Perms: perms, Teams: teams, Definition: t.DefinitionID}
}
