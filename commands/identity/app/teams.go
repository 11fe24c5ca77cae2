package app

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// TeamView is a team as the API shows it.
type TeamView struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Lead    string   `json:"lead,omitempty"`
	Members []string `json:"members"`
	Version int64    `json:"version"`
}

// CreateTeam creates a team (users:admin); its lead, when named, must be a user and becomes a
// member.
func (s *Service) CreateTeam(ctx context.Context, caller access.Principal, cmd contracts.CreateTeam, inv es.Invocation) (TeamView, error) {
	if err := requireAdmin(caller); err != nil {
		return TeamView{}, err
	}
	if cmd.Lead != "" {
		if err := s.userExists(ctx, "/lead", cmd.Lead); err != nil {
			return TeamView{}, err
		}
	}
	id := events.NewStreamID("identity", "team")
	if k := inv.Meta.IdempotencyKey; k != "" {
		id = es.StreamIDFor("identity", "team", "create\x00"+k)
	}
	// Assets name their owner team by name (owner_team) and principals carry their teams' names:
	// a name is one team's, whatever the case. (Per process, as e-mail uniqueness; a retry with
	// the same Idempotency-Key finds its own team.)
	if err := s.sync(ctx); err != nil {
		return TeamView{}, err
	}
	var taken string
	s.read(func(d *directory) {
		for _, t := range d.st.Teams {
			if t.ID != id && strings.EqualFold(t.Name, cmd.Name) {
				taken = t.ID
			}
		}
	})
	if taken != "" {
		return TeamView{}, problem.Conflict("team %q already exists (%s)", cmd.Name, taken).OnField("/name")
	}
	var t domain.Team
	if _, err := s.exec(ctx, id, &t, invocation(caller, inv), func() ([]es.Change, error) { return t.Create(cmd.Name, cmd.Lead) }); err != nil {
		return TeamView{}, err
	}
	return s.team(id)
}

// userExists refuses a user id no user has, naming field.
func (s *Service) userExists(ctx context.Context, field, id string) error {
	if err := s.sync(ctx); err != nil {
		return err
	}
	found := false
	s.read(func(d *directory) { found = d.st.Users[id] != nil })
	if !found {
		return problem.Rule(field, "no such user: %s", id)
	}
	return nil
}

func (s *Service) team(id string) (TeamView, error) {
	var v TeamView
	s.read(func(d *directory) {
		if t := d.st.Teams[id]; t != nil {
			v = teamView(t)
		}
	})
	if v.ID == "" {
		return v, notFound("team", id)
	}
	return v, nil
}

func teamView(t *domain.Team) TeamView {
	return TeamView{ID: t.ID, Name: t.Name, Lead: t.Lead, Members: nonNil(slices.Clone(t.Members)), Version: t.Version}
}

// Teams lists the teams by name (users:read).
func (s *Service) Teams(caller access.Principal) ([]TeamView, error) {
	if !caller.Can(access.UsersRead) && !caller.Can(access.UsersAdmin) {
		return nil, problem.Forbidden("this needs the %s permission", access.UsersRead)
	}
	out := []TeamView{}
	s.read(func(d *directory) {
		for _, t := range d.st.Teams {
			out = append(out, teamView(t))
		}
	})
	slices.SortFunc(out, func(a, b TeamView) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// AddMember adds a user to a team (users:admin); cmd.Lead also makes them its lead.
func (s *Service) AddMember(ctx context.Context, caller access.Principal, team string, cmd contracts.AddTeamMember, inv es.Invocation) (es.Outcome, error) {
	if err := requireAdmin(caller); err != nil {
		return es.Outcome{}, err
	}
	if err := s.userExists(ctx, "/user_id", cmd.UserID); err != nil {
		return es.Outcome{}, err
	}
	lead := cmd.Lead != nil && *cmd.Lead
	return s.onTeam(ctx, team, invocation(caller, inv), func(t *domain.Team) ([]es.Change, error) { return t.AddMember(cmd.UserID, lead), nil })
}

func (s *Service) addMember(ctx context.Context, team, user string, lead bool, inv es.Invocation) error {
	_, err := s.onTeam(ctx, team, inv, func(t *domain.Team) ([]es.Change, error) { return t.AddMember(user, lead), nil })
	return err
}

// RemoveMember removes a user from a team (users:admin); the lead stays until another is named.
func (s *Service) RemoveMember(ctx context.Context, caller access.Principal, team, user string, inv es.Invocation) (es.Outcome, error) {
	if err := requireAdmin(caller); err != nil {
		return es.Outcome{}, err
	}
	return s.onTeam(ctx, team, invocation(caller, inv), func(t *domain.Team) ([]es.Change, error) { return t.RemoveMember(user) })
}

func (s *Service) onTeam(ctx context.Context, id string, inv es.Invocation, decide func(t *domain.Team) ([]es.Change, error)) (es.Outcome, error) {
	s.read(func(d *directory) { // a team may be named by its name too (soc teams add-member platform …)
		if t := d.teamRef(id); t != nil {
			id = t.ID
		}
	})
	out, err := es.ExecExisting(ctx, s.deps.Store, "team", id, domain.IsTeamID, inv, decide)
	if err != nil {
		return out, err
	}
	return out, s.sync(ctx)
}

// RoleView is a role: built-in (schemas/access) or custom.
type RoleView struct {
	Name        string              `json:"name"`
	BuiltIn     bool                `json:"built_in"`
	Permissions []access.Permission `json:"permissions"`
	Description string              `json:"description,omitempty"`
}

// Roles lists the built-in roles, then the custom ones, by name (users:read).
func (s *Service) Roles(caller access.Principal) ([]RoleView, error) {
	if !caller.Can(access.UsersRead) && !caller.Can(access.UsersAdmin) {
		return nil, problem.Forbidden("this needs the %s permission", access.UsersRead)
	}
	var out []RoleView
	for _, r := range access.BuiltinRoles() {
		p, _ := access.RolePermissions(r)
		slices.Sort(p)
		out = append(out, RoleView{Name: r, BuiltIn: true, Permissions: p})
	}
	var custom []RoleView
	s.read(func(d *directory) {
		for _, r := range d.st.Roles {
			custom = append(custom, RoleView{Name: r.Name, Permissions: slices.Clone(r.Permissions), Description: r.Description})
		}
	})
	slices.SortFunc(custom, func(a, b RoleView) int { return strings.Compare(a.Name, b.Name) })
	return append(out, custom...), nil
}

// DefineRole defines or redefines a custom role (users:admin). Its permissions apply at once
// to every holder (a principal is computed per request).
func (s *Service) DefineRole(ctx context.Context, caller access.Principal, cmd contracts.DefineRole, inv es.Invocation) (es.Outcome, error) {
	if err := requireAdmin(caller); err != nil {
		return es.Outcome{}, err
	}
	perms := make([]access.Permission, len(cmd.Permissions))
	for i, p := range cmd.Permissions {
		perms[i] = access.Permission(p)
	}
	var r domain.Role
	return s.exec(ctx, domain.RoleStreamID(cmd.Name), &r, invocation(caller, inv), func() ([]es.Change, error) {
		return r.Define(cmd.Name, perms, cmd.Description)
	})
}
