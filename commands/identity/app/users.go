package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// EmailTakenError refuses a second user with an email (compared case-insensitively) (409).
type EmailTakenError struct{ UserID string }

func (e *EmailTakenError) Error() string      { return "the email belongs to user " + e.UserID }
func (e *EmailTakenError) Kind() problem.Kind { return problem.KindConflict }
func (e *EmailTakenError) Field() string      { return "/email" }

// UserView is a user as the API shows it: never a password hash.
type UserView struct {
	ID          string              `json:"id"`
	Email       string              `json:"email"`
	DisplayName string              `json:"display_name"`
	Phone       string              `json:"phone,omitempty"`
	TimeZone    string              `json:"time_zone,omitempty"`
	Status      string              `json:"status"`
	Source      string              `json:"source"`
	Roles       []string            `json:"roles"`
	Permissions []access.Permission `json:"permissions"`
	Teams       []string            `json:"teams"`
	Version     int64               `json:"version"`
}

// view is u's view. Callers hold dir.mu.
func (d *directory) view(u *domain.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Phone: u.Phone, TimeZone: u.TimeZone,
		Status: string(u.Status), Source: string(u.Source), Roles: nonNil(slices.Clone(u.Roles)),
		Permissions: nonNil(d.permissions(u.Roles)), Teams: d.teamsOf(u.ID), Version: u.Version}
}

// checkRoles refuses an unknown role, naming it. Callers hold dir.mu.
func (d *directory) checkRoles(field string, roles []string) error {
	for i, r := range roles {
		if !d.roleExists(r) {
			return problem.Rule(field+"/"+strconv.Itoa(i), "no such role: %s", r)
		}
	}
	return nil
}

// resolveTeams turns teams named by id or by name into their ids, refusing an unknown one and
// naming it. Callers hold dir.mu.
func (d *directory) resolveTeams(field string, teams []string) ([]string, error) {
	ids := make([]string, 0, len(teams))
	for i, ref := range teams {
		t := d.teamRef(ref)
		if t == nil {
			return nil, problem.Rule(field+"/"+strconv.Itoa(i), "no such team: %s", ref)
		}
		ids = append(ids, t.ID)
	}
	return ids, nil
}

// newUser registers a user under a new id (derived from the Idempotency-Key when there is one,
// so that a retried request finds the user it created).
func (s *Service) newUser(ctx context.Context, reg domain.Registration, teams []string, inv es.Invocation) (string, error) {
	id := events.NewStreamID("identity", "user")
	if k := inv.Meta.IdempotencyKey; k != "" {
		id = es.StreamIDFor("identity", "user", "register\x00"+k)
	}
	return id, s.registerAs(ctx, id, reg, teams, inv)
}

// registerAs registers user id and adds it to teams: the one path every way of creating a user
// takes (the API, an invitation, SSO, the bootstrap), so that the email stays unique and the
// roles and teams exist. Registrations of one process are serialised; two nodes registering
// the same email at the same instant are not (the email index is per node).
func (s *Service) registerAs(ctx context.Context, id string, reg domain.Registration, teams []string, inv es.Invocation) error {
	s.register.Lock()
	defer s.register.Unlock()
	if err := s.sync(ctx); err != nil {
		return err
	}
	var err error
	s.read(func(d *directory) {
		if other, ok := d.byEmail[domain.NormalizeEmail(reg.Email)]; ok && other != id {
			err = &EmailTakenError{UserID: other}
			return
		}
		if err = d.checkRoles("/roles", reg.Roles); err == nil {
			teams, err = d.resolveTeams("/teams", teams)
		}
	})
	if err != nil {
		return err
	}
	var u domain.User
	if _, err := s.exec(ctx, id, &u, inv, func() ([]es.Change, error) { return u.Register(reg) }); err != nil {
		return err
	}
	for _, t := range teams {
		if err := s.addMember(ctx, t, id, false, inv); err != nil {
			return err
		}
	}
	return nil
}

// CreatedUser is the answer to creating a user: its view and, when no password was given, the
// one generated for it, shown here only.
type CreatedUser struct {
	UserView
	OneTimePassword string `json:"one_time_password,omitempty"`
}

// CreateUser registers a user (users:admin). Without a password one is generated (130 random
// bits) and answered once; the display name defaults to the email.
func (s *Service) CreateUser(ctx context.Context, caller access.Principal, cmd contracts.CreateUser, inv es.Invocation) (CreatedUser, error) {
	if err := requireAdmin(caller); err != nil {
		return CreatedUser{}, err
	}
	var out CreatedUser
	pw := cmd.Password
	if pw == "" {
		pw = rand.Text()
		out.OneTimePassword = pw
	}
	h, err := s.deps.Passwords.Hash(pw)
	if err != nil {
		return CreatedUser{}, err
	}
	reg := domain.Registration{Email: cmd.Email, DisplayName: cmp.Or(cmd.DisplayName, domain.NormalizeEmail(cmd.Email)), Phone: cmd.Phone,
		TimeZone: cmd.TimeZone, PasswordHash: h, Source: contracts.UserSourcePassword, Roles: cmd.Roles}
	id, err := s.newUser(ctx, reg, cmd.Teams, invocation(caller, inv))
	if err != nil {
		return CreatedUser{}, err
	}
	out.UserView, err = s.User(caller, id)
	return out, err
}

// User is one user's view (users:read, or oneself).
func (s *Service) User(caller access.Principal, id string) (UserView, error) {
	if id != caller.ID && id != caller.UserID && !caller.Can(access.UsersRead) && !caller.Can(access.UsersAdmin) {
		return UserView{}, problem.Forbidden("this needs the %s permission", access.UsersRead)
	}
	var v UserView
	found := false
	s.read(func(d *directory) {
		if u := d.st.Users[id]; u != nil {
			v, found = d.view(u), true
		}
	})
	if !found {
		return v, notFound("user", id)
	}
	return v, nil
}

// Users lists the users by email (users:read): every user, or the one with email when it is
// given.
func (s *Service) Users(caller access.Principal, email string) ([]UserView, error) {
	if !caller.Can(access.UsersRead) && !caller.Can(access.UsersAdmin) {
		return nil, problem.Forbidden("this needs the %s permission", access.UsersRead)
	}
	out := []UserView{}
	s.read(func(d *directory) {
		if email != "" {
			if u := d.st.Users[d.byEmail[domain.NormalizeEmail(email)]]; u != nil {
				out = append(out, d.view(u))
			}
			return
		}
		for _, u := range d.st.Users {
			out = append(out, d.view(u))
		}
	})
	slices.SortFunc(out, func(a, b UserView) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

// DisableUser stops a user signing in and revokes their live sessions; the last active admin
// cannot be disabled.
func (s *Service) DisableUser(ctx context.Context, caller access.Principal, id string, cmd contracts.DisableUser, inv es.Invocation) (es.Outcome, error) {
	release, err := s.exclusive(ctx, caller)
	if err != nil {
		return es.Outcome{}, err
	}
	defer release()
	inv = invocation(caller, inv)
	out, err := s.onUser(ctx, id, inv, func(d *directory, u *domain.User) ([]es.Change, error) {
		return u.Disable(cmd.Reason, d.lastAdmin(id))
	})
	if err != nil {
		return out, err
	}
	return out, s.revokeSessions(ctx, id, contracts.SessionRevocationReasonUserDisabled, inv)
}

// exclusive checks that caller administers users, then serialises with the other commands
// whose invariant spans users (unique email, last active admin) and catches up with the store.
// release ends the exclusion.
func (s *Service) exclusive(ctx context.Context, caller access.Principal) (release func(), err error) {
	if err := requireAdmin(caller); err != nil {
		return nil, err
	}
	s.register.Lock()
	if err := s.sync(ctx); err != nil {
		s.register.Unlock()
		return nil, err
	}
	return s.register.Unlock, nil
}

// revokeSessions revokes every live session of user.
func (s *Service) revokeSessions(ctx context.Context, user string, reason contracts.SessionRevocationReason, inv es.Invocation) error {
	var ids []string
	now := s.now()
	s.read(func(d *directory) {
		for id, ss := range d.st.Sessions {
			if ss.User == user && ss.Live(now) {
				ids = append(ids, id)
			}
		}
	})
	inv.Meta.IdempotencyKey, inv.Fingerprint, inv.Expected = "", "", nil
	for _, id := range ids {
		var ss domain.Session
		if _, err := s.exec(ctx, id, &ss, inv, func() ([]es.Change, error) { return ss.Revoke(reason), nil }); err != nil {
			return err
		}
	}
	return nil
}

// EnableUser lets a disabled user sign in again.
func (s *Service) EnableUser(ctx context.Context, caller access.Principal, id string, _ contracts.EnableUser, inv es.Invocation) (es.Outcome, error) {
	if err := requireAdmin(caller); err != nil {
		return es.Outcome{}, err
	}
	return s.onUser(ctx, id, invocation(caller, inv), func(_ *directory, u *domain.User) ([]es.Change, error) { return u.Enable() })
}

// SetRoles makes the user's roles exactly cmd.Roles; each must exist, and the last active
// admin keeps admin.
func (s *Service) SetRoles(ctx context.Context, caller access.Principal, id string, cmd contracts.SetUserRoles, inv es.Invocation) (es.Outcome, error) {
	release, err := s.exclusive(ctx, caller)
	if err != nil {
		return es.Outcome{}, err
	}
	defer release()
	return s.onUser(ctx, id, invocation(caller, inv), func(d *directory, u *domain.User) ([]es.Change, error) {
		if err := d.checkRoles("/roles", cmd.Roles); err != nil {
			return nil, err
		}
		return u.SetRoles(cmd.Roles, d.lastAdmin(id))
	})
}

// SetPreferences records the caller's own notification preferences.
func (s *Service) SetPreferences(ctx context.Context, caller access.Principal, cmd contracts.SetNotificationPreferences, inv es.Invocation) (es.Outcome, error) {
	if caller.Kind != access.KindUser {
		return es.Outcome{}, problem.Forbidden("preferences are a person's: sign in as the user")
	}
	return s.onUser(ctx, caller.ID, invocation(caller, inv), func(_ *directory, u *domain.User) ([]es.Change, error) {
		return u.SetPreferences(contracts.NotificationPreferencesSet{Channels: cmd.Channels,
			QuietHours: (*contracts.NotificationPreferencesSetQuietHours)(cmd.QuietHours), Digest: cmd.Digest, Phone: cmd.Phone}), nil
	})
}

// onUser runs decide on user id with the directory read-locked (for the checks that span users).
func (s *Service) onUser(ctx context.Context, id string, inv es.Invocation, decide func(d *directory, u *domain.User) ([]es.Change, error)) (es.Outcome, error) {
	out, err := es.ExecExisting(ctx, s.deps.Store, "user", id, domain.IsUserID, inv, func(u *domain.User) ([]es.Change, error) {
		var changes []es.Change
		var err error
		s.read(func(d *directory) { changes, err = decide(d, u) })
		return changes, err
	})
	if err != nil {
		return out, err
	}
	return out, s.sync(ctx)
}

// Me is who the caller is: the principal, and the user it is or acts for.
type Me struct {
	Kind        access.Kind                           `json:"kind"`
	ID          string                                `json:"id"`
	Name        string                                `json:"name"`
	SessionID   string                                `json:"session_id,omitempty"`
	Roles       []string                              `json:"roles"`
	Permissions []access.Permission                   `json:"permissions"`
	Teams       []string                              `json:"teams"`
	User        *UserView                             `json:"user,omitempty"`
	Preferences *contracts.NotificationPreferencesSet `json:"preferences,omitempty"`
}

// WhoAmI describes the caller.
func (s *Service) WhoAmI(caller access.Principal) Me {
	m := Me{Kind: caller.Kind, ID: caller.ID, Name: caller.Name, SessionID: caller.SessionID,
		Roles: nonNil(caller.Roles), Permissions: nonNil(caller.Perms), Teams: nonNil(caller.Teams)}
	user := cmp.Or(caller.UserID, caller.ID)
	s.read(func(d *directory) {
		if u := d.st.Users[user]; u != nil {
			v := d.view(u)
			m.User = &v
			if caller.Kind == access.KindUser {
				p := u.Preferences
				m.Preferences = &p
			}
		}
	})
	return m
}

// nonNil is s, or an empty list for nil: the API shows a list as [] when empty, never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
