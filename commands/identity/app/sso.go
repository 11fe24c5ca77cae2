package app

import (
	"cmp"
	"context"
	"slices"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Identity is who an OpenID Connect provider says signed in, with the roles and teams the
// group mapping gave (the shape of the sso package's Identity; this package does not import
// it). Teams are team ids or names: a group mapping names the teams an administrator created.
type Identity struct {
	Issuer, Subject string
	Email, Name     string
	Groups          []string
	Roles           []string
	Teams           []string
}

// ProvisionSSO returns the principal of an SSO sign-in: the user is created on their first
// login (found by issuer and subject, else adopted by email) and, on every later login, their
// roles and team memberships are synced to what the mapping gives now. A mapping that gives no
// roles (or no teams) leaves them alone: they are then managed in the platform. Roles and teams
// the mapping names that do not exist are ignored. A disabled user is refused (401).
func (s *Service) ProvisionSSO(ctx context.Context, id Identity) (access.Principal, error) {
	if id.Issuer == "" || id.Subject == "" || id.Email == "" {
		return access.Principal{}, problem.Unauthorized("the identity provider gave no subject or email")
	}
	if err := s.sync(ctx); err != nil {
		return access.Principal{}, err
	}
	var user domain.User
	var roles, teams []string
	s.read(func(d *directory) {
		uid, ok := d.bySSO[id.Issuer+"\x00"+id.Subject]
		if !ok {
			uid = d.byEmail[domain.NormalizeEmail(id.Email)]
		}
		if u := d.st.Users[uid]; u != nil {
			user = *u
		}
		for _, r := range id.Roles {
			if d.roleExists(r) {
				roles = append(roles, r)
			}
		}
		for _, t := range id.Teams {
			if d.st.Teams[t] != nil {
				teams = append(teams, t)
			} else if named := d.teamNamed(t); named != nil {
				teams = append(teams, named.ID)
			}
		}
	})
	if !user.Exists() {
		uid := events.NewStreamID("identity", "user")
		inv := es.Invocation{Meta: es.Meta{Actor: "user:" + uid}}
		reg := domain.Registration{Email: id.Email, DisplayName: cmp.Or(id.Name, id.Email), Source: contracts.UserSourceSso,
			SSOIssuer: id.Issuer, SSOSubject: id.Subject, Roles: roles}
		if err := s.registerAs(ctx, uid, reg, teams, inv); err != nil {
			return access.Principal{}, err
		}
		return s.principalOf(uid)
	}
	if !user.Active() {
		return access.Principal{}, problem.Unauthorized("the account is disabled")
	}
	if err := s.syncMapping(ctx, user, roles, teams); err != nil {
		return access.Principal{}, err
	}
	return s.principalOf(user.ID)
}

// syncMapping makes the user's roles and team memberships what the provider's groups map to
// now. The last active admin keeps admin (the domain refuses the change).
func (s *Service) syncMapping(ctx context.Context, u domain.User, roles, teams []string) error {
	inv := es.Invocation{Meta: es.Meta{Actor: access.System("sso").Actor()}}
	slices.Sort(roles)
	if roles = slices.Compact(roles); len(roles) > 0 && !slices.Equal(roles, u.Roles) {
		s.register.Lock()
		_, err := s.onUser(ctx, u.ID, inv, func(d *directory, cur *domain.User) ([]es.Change, error) {
			return cur.SetRoles(roles, d.lastAdmin(u.ID))
		})
		s.register.Unlock()
		if err != nil {
			return err
		}
	}
	if len(teams) == 0 {
		return nil
	}
	var current []string
	s.read(func(d *directory) { current = d.teamsOf(u.ID) })
	for _, t := range teams {
		if !slices.Contains(current, t) {
			if err := s.addMember(ctx, t, u.ID, false, inv); err != nil {
				return err
			}
		}
	}
	for _, t := range current {
		if !slices.Contains(teams, t) {
			if _, err := s.onTeam(ctx, t, inv, func(team *domain.Team) ([]es.Change, error) {
				if team.Lead == u.ID {
					return nil, nil // a lead stays until an admin names another
				}
				return team.RemoveMember(u.ID)
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// principalOf is user id's principal as of now.
func (s *Service) principalOf(id string) (access.Principal, error) {
	var p access.Principal
	s.read(func(d *directory) {
		if u := d.st.Users[id]; u != nil {
			p = d.principal(u)
		}
	})
	if p.ID == "" {
		return p, notFound("user", id)
	}
	return p, nil
}

// StartSession starts a session for a principal an SSO login (or another trusted sign-in)
// produced, and answers like a login.
func (s *Service) StartSession(ctx context.Context, p access.Principal, source contracts.SessionSource) (Tokens, error) {
	if p.Kind != access.KindUser || p.ID == "" {
		return Tokens{}, problem.Unauthorized("only a user signs in")
	}
	return s.startSession(ctx, p.ID, source, es.Invocation{})
}
