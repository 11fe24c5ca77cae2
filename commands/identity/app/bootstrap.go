package app

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strings"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// ErrUsersExist refuses a bootstrap once any user exists: the first admin is made once, and
// every later user by an admin.
var ErrUsersExist = problem.Conflict("users exist already: the first admin is created only on an empty store")

// MinPasswordLen is the shortest password a person may choose.
const MinPasswordLen = 12

// BootstrapAdmin creates the first admin, on a store without users. Without a password it
// generates one and returns it (to be shown once: `soc users create-admin` prints it); a given
// password is not returned. The actor of its events is "system:bootstrap".
func (s *Service) BootstrapAdmin(ctx context.Context, email, password string) (id, generated string, err error) {
	if len(password) > 0 && len(password) < MinPasswordLen {
		return "", "", problem.Invalid("password", "a password has at least %d characters", MinPasswordLen)
	}
	if password == "" {
		// 26 base32 characters, 130 random bits: typed once, then changed or kept in a manager
		password = rand.Text()
		generated = password
	}
	if err := s.sync(ctx); err != nil {
		return "", "", err
	}
	any := false
	s.read(func(d *directory) { any = len(d.st.Users) > 0 })
	if any {
		return "", "", ErrUsersExist
	}
	hash, err := s.deps.Passwords.Hash(password)
	if err != nil {
		return "", "", err
	}
	id = events.NewStreamID("identity", "user")
	reg := domain.Registration{Email: email, DisplayName: email, PasswordHash: hash, Source: contracts.UserSourcePassword,
		Roles: []string{access.RoleAdmin}}
	inv := es.Invocation{Meta: es.Meta{Actor: access.System("bootstrap").Actor()}}
	if err := s.registerAs(ctx, id, reg, nil, inv); err != nil {
		return "", "", err
	}
	return id, generated, nil
}

// BootstrapFromConfig creates the admin Config.BootstrapAdminEmail names with the password in
// Config.BootstrapAdminPasswordFile on a first start; when users exist already it does
// nothing (the variables may stay set). Without the settings it does nothing either: nothing
// is open and there is no default password.
func (s *Service) BootstrapFromConfig(ctx context.Context) error {
	if s.cfg.BootstrapAdminEmail == "" {
		return nil
	}
	b, err := os.ReadFile(s.cfg.BootstrapAdminPasswordFile)
	if err != nil {
		return errors.New("reading --bootstrap-admin-password-file: " + errors.Unwrap(err).Error())
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return errors.New("--bootstrap-admin-password-file: the file is empty")
	}
	_, _, err = s.BootstrapAdmin(ctx, s.cfg.BootstrapAdminEmail, pw)
	if errors.Is(err, ErrUsersExist) {
		return nil
	}
	return err
}
