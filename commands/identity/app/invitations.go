package app

import (
	"context"
	"time"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// IssuedInvitation is the answer to an invitation: its secret, shown once (to be sent to the
// invitee; the platform does not mail it).
type IssuedInvitation struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Invite issues an invitation (users:admin) for an email no user holds yet, with roles and
// teams that exist.
func (s *Service) Invite(ctx context.Context, caller access.Principal, cmd contracts.IssueInvitation, inv es.Invocation) (IssuedInvitation, error) {
	if err := requireAdmin(caller); err != nil {
		return IssuedInvitation{}, err
	}
	ttl := s.cfg.InvitationTTL
	if cmd.TTL != "" {
		var err error
		if ttl, err = parseTTL("/ttl", cmd.TTL, 90*24*time.Hour); err != nil {
			return IssuedInvitation{}, err
		}
	}
	if err := s.sync(ctx); err != nil {
		return IssuedInvitation{}, err
	}
	var err error
	s.read(func(d *directory) {
		if id, ok := d.byEmail[domain.NormalizeEmail(cmd.Email)]; ok {
			err = &EmailTakenError{UserID: id}
		} else if err = d.checkRoles("/roles", cmd.Roles); err == nil {
			cmd.Teams, err = d.resolveTeams("/teams", cmd.Teams) // kept by id
		}
	})
	if err != nil {
		return IssuedInvitation{}, err
	}
	plain, hash, err := s.deps.Secrets.New(PrefixInvitation)
	if err != nil {
		return IssuedInvitation{}, err
	}
	id := events.NewStreamID("identity", "invitation")
	expires := s.now().Add(ttl).UTC().Truncate(time.Second)
	inv = invocation(caller, inv)
	inv.Meta.IdempotencyKey, inv.Fingerprint = "", ""
	var i domain.Invitation
	if _, err := s.exec(ctx, id, &i, inv, func() ([]es.Change, error) {
		return i.Issue(cmd.Email, hash, cmd.Roles, cmd.Teams, expires)
	}); err != nil {
		return IssuedInvitation{}, err
	}
	return IssuedInvitation{ID: id, Token: plain, Email: domain.NormalizeEmail(cmd.Email), ExpiresAt: expires}, nil
}

// AcceptInvitation registers the invitee with a password, the invitation's roles and teams, and
// signs them in. An invitation is used once and not after it expires.
func (s *Service) AcceptInvitation(ctx context.Context, cmd contracts.AcceptInvitation, inv es.Invocation) (Tokens, error) {
	hash := s.deps.Secrets.Hash(cmd.Token)
	if err := s.sync(ctx); err != nil {
		return Tokens{}, err
	}
	var found domain.Invitation
	s.read(func(d *directory) {
		if id, ok := d.invByHash[hash]; ok {
			found = *d.st.Invitations[id]
		}
	})
	switch {
	case !found.Exists():
		return Tokens{}, problem.Unauthorized("unknown invitation")
	case found.AcceptedBy != "":
		return Tokens{}, problem.Unauthorized("the invitation was used already")
	case !s.now().Before(found.ExpiresAt):
		return Tokens{}, problem.Unauthorized("the invitation has expired")
	}
	pw, err := s.deps.Passwords.Hash(cmd.Password)
	if err != nil {
		return Tokens{}, err
	}
	inv.Meta.IdempotencyKey, inv.Fingerprint, inv.Expected = "", "", nil
	// The invitation is used up first: two concurrent accepts cannot both register.
	userID := events.NewStreamID("identity", "user")
	var i domain.Invitation
	if _, err := s.exec(ctx, found.ID, &i, invOf(inv, "user:"+userID), func() ([]es.Change, error) {
		return i.Accept(userID, s.now())
	}); err != nil {
		return Tokens{}, err
	}
	reg := domain.Registration{Email: found.Email, DisplayName: cmd.DisplayName, PasswordHash: pw,
		Source: contracts.UserSourceInvitation, Roles: found.Roles}
	if err := s.registerAs(ctx, userID, reg, found.Teams, invOf(inv, "user:"+userID)); err != nil {
		return Tokens{}, err
	}
	return s.startSession(ctx, userID, contracts.SessionSourcePassword, inv)
}

func invOf(inv es.Invocation, actor string) es.Invocation {
	inv.Meta.Actor = actor
	return inv
}
