package app

import (
	"context"
	"crypto/rand"
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

// Tokens is the answer to a login or a refresh. RefreshToken is shown here only: the store
// keeps its hash.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	SessionID    string `json:"session_id"`
}

// LockedError refuses a login while its account or source address is locked out (429 with
// Retry-After, in whole seconds rounded up).
type LockedError struct{ Wait time.Duration }

func (e *LockedError) Error() string {
	return "too many failed logins: try again in " + strconv.FormatInt(int64(e.retry().Seconds()), 10) + "s"
}
func (e *LockedError) Kind() problem.Kind        { return problem.KindRateLimited }
func (e *LockedError) RetryAfter() time.Duration { return e.retry() }
func (e *LockedError) retry() time.Duration      { return (e.Wait + time.Second - 1).Truncate(time.Second) }

// errBadCredentials is the one answer to a wrong email or password, a disabled account or an
// SSO-only account: which of them it was is not the client's to learn.
var errBadCredentials = problem.Unauthorized("invalid email or password")

// sessionsOnly keeps only the meta of inv a session's events carry: a login or refresh answers
// with a new secret each time, so an Idempotency-Key cannot replay it.
func sessionsOnly(inv es.Invocation, actor string) es.Invocation {
	inv.Meta.IdempotencyKey, inv.Fingerprint, inv.Expected = "", "", nil
	inv.Meta.Actor = actor
	return inv
}

// Login checks a password and starts a session. Failures count per account and per source
// address (lockout); an unknown email costs the same argon2id verification as a known one.
func (s *Service) Login(ctx context.Context, email, password, address string, inv es.Invocation) (Tokens, error) {
	acct, addr := "account:"+domain.NormalizeEmail(email), "address:"+address
	if w := s.lock.wait(acct, addr); w > 0 {
		return Tokens{}, &LockedError{Wait: w}
	}
	if err := s.sync(ctx); err != nil {
		return Tokens{}, err
	}
	var u domain.User
	s.read(func(d *directory) {
		if id, ok := d.byEmail[domain.NormalizeEmail(email)]; ok {
			u = *d.st.Users[id]
		}
	})
	hash := u.PasswordHash
	if hash == "" {
		dummy, err := s.dummyHash()
		if err != nil {
			return Tokens{}, err
		}
		hash = dummy
	}
	ok, rehash, err := s.deps.Passwords.Verify(password, hash)
	if err != nil {
		return Tokens{}, err
	}
	if !ok || u.PasswordHash == "" || !u.Active() {
		s.lock.fail(acct, addr)
		return Tokens{}, errBadCredentials
	}
	s.lock.succeed(acct)
	if rehash {
		if err := s.rehash(ctx, u.ID, password, inv); err != nil {
			return Tokens{}, err
		}
	}
	return s.startSession(ctx, u.ID, contracts.SessionSourcePassword, inv)
}

// rehash stores the password hashed with the current parameters (they changed since it was
// set); only a login sees the password, so only a login can.
func (s *Service) rehash(ctx context.Context, user, password string, inv es.Invocation) error {
	h, err := s.deps.Passwords.Hash(password)
	if err != nil {
		return err
	}
	var u domain.User
	_, err = s.exec(ctx, user, &u, sessionsOnly(inv, "user:"+user), func() ([]es.Change, error) {
		return u.ChangePassword(h, contracts.PasswordChangeReasonRehash)
	})
	return err
}

// dummyHash is a hash of a random password, made once: an unknown email is verified against
// it, so that its answer takes as long as a known one's.
func (s *Service) dummyHash() (string, error) {
	s.dummyMu.Lock()
	defer s.dummyMu.Unlock()
	if s.dummy == "" {
		var err error
		if s.dummy, err = s.deps.Passwords.Hash(rand.Text()); err != nil {
			return "", err
		}
	}
	return s.dummy, nil
}

// startSession starts a session of user and issues its first tokens.
func (s *Service) startSession(ctx context.Context, user string, source contracts.SessionSource, inv es.Invocation) (Tokens, error) {
	plain, hash, err := s.deps.Secrets.New(PrefixRefresh)
	if err != nil {
		return Tokens{}, err
	}
	id := events.NewStreamID("identity", "session")
	var sess domain.Session
	expires := s.now().Add(s.cfg.RefreshTTL)
	if _, err := s.exec(ctx, id, &sess, sessionsOnly(inv, "user:"+user), func() ([]es.Change, error) {
		return sess.Start(user, source, hash, expires)
	}); err != nil {
		return Tokens{}, err
	}
	return s.issue(user, id, plain)
}

func (s *Service) issue(user, session, refresh string) (Tokens, error) {
	tok, exp, err := s.deps.Keyring.Issue(user, session)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(exp.Sub(s.now()).Seconds()),
		RefreshToken: refresh, SessionID: session}, nil
}

// sessionByRefresh finds the session a refresh token belongs to (current or rotated), catching
// up with the store once when it is not known yet (issued by another node a moment ago).
func (s *Service) sessionByRefresh(ctx context.Context, hash string) (domain.Session, error) {
	for attempt := 0; ; attempt++ {
		var sess domain.Session
		s.read(func(d *directory) {
			if id, ok := d.sessionByHash[hash]; ok {
				sess = *d.st.Sessions[id]
			}
		})
		if sess.Exists() {
			return sess, nil
		}
		if attempt > 0 {
			return sess, problem.Unauthorized("unknown refresh token")
		}
		if err := s.sync(ctx); err != nil {
			return sess, err
		}
	}
}

// Refresh trades a refresh token for new tokens, rotating it. A rotated token presented again
// revokes the session (every token of the family stops working) and is refused.
func (s *Service) Refresh(ctx context.Context, refresh string, inv es.Invocation) (Tokens, error) {
	hash := s.deps.Secrets.Hash(refresh)
	found, err := s.sessionByRefresh(ctx, hash)
	if err != nil {
		return Tokens{}, err
	}
	plain, next, err := s.deps.Secrets.New(PrefixRefresh)
	if err != nil {
		return Tokens{}, err
	}
	var sess domain.Session
	var refused error
	if _, err := s.exec(ctx, found.ID, &sess, sessionsOnly(inv, "user:"+found.User), func() ([]es.Change, error) {
		changes, err := sess.Refresh(hash, next, s.now())
		refused = err
		return changes, nil // a reuse's revocation is appended, then refused
	}); err != nil {
		return Tokens{}, err
	}
	if refused != nil {
		return Tokens{}, problem.Unauthorized("%s", refused.Error())
	}
	active := false
	s.read(func(d *directory) { active = d.st.Users[found.User].Active() })
	if !active {
		return Tokens{}, problem.Unauthorized("the account is disabled")
	}
	return s.issue(found.User, found.ID, plain)
}

// Logout ends the session the refresh token belongs to. A rotated token revokes it as reuse.
func (s *Service) Logout(ctx context.Context, refresh string, inv es.Invocation) error {
	hash := s.deps.Secrets.Hash(refresh)
	found, err := s.sessionByRefresh(ctx, hash)
	if err != nil {
		return err
	}
	var sess domain.Session
	_, err = s.exec(ctx, found.ID, &sess, sessionsOnly(inv, "user:"+found.User), func() ([]es.Change, error) {
		if sess.RefreshHash != hash {
			return sess.Revoke(contracts.SessionRevocationReasonReuse), nil
		}
		return sess.Revoke(contracts.SessionRevocationReasonLogout), nil
	})
	return err
}

// SessionView is a session as listed: never its refresh token or hash.
type SessionView struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Source    string    `json:"source"`
	StartedAt time.Time `json:"started_at"`
	LastUsed  time.Time `json:"last_used_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Live      bool      `json:"live"`
	Revoked   string    `json:"revoked,omitempty"`
	Current   bool      `json:"current,omitempty"`
	Refreshes int       `json:"refreshes"`
	_         [0]func() // not comparable: views are built, not compared
}

// Sessions lists user's sessions, newest first: the caller's own, or anyone's with users:admin.
func (s *Service) Sessions(caller access.Principal, user string) ([]SessionView, error) {
	if user != caller.ID {
		if err := requireAdmin(caller); err != nil {
			return nil, err
		}
	}
	now := s.now()
	var out []SessionView
	var known bool
	s.read(func(d *directory) {
		known = d.st.Users[user] != nil
		for _, ss := range d.st.Sessions {
			if ss.User == user {
				out = append(out, SessionView{ID: ss.ID, UserID: ss.User, Source: string(ss.Source), StartedAt: ss.StartedAt,
					LastUsed: ss.LastUsed, ExpiresAt: ss.ExpiresAt, Live: ss.Live(now), Revoked: string(ss.Revoked),
					Current: ss.ID == caller.SessionID, Refreshes: len(ss.Rotated)})
			}
		}
	})
	if !known {
		return nil, notFound("user", user)
	}
	slices.SortFunc(out, func(a, b SessionView) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// RevokeSession ends a session: one's own (reason user), or, unless own is set (the /v1/me
// route), anyone's with users:admin (reason admin).
func (s *Service) RevokeSession(ctx context.Context, caller access.Principal, id string, own bool, inv es.Invocation) (es.Outcome, error) {
	var owner string
	s.read(func(d *directory) {
		if ss := d.st.Sessions[id]; ss != nil {
			owner = ss.User
		}
	})
	reason := contracts.SessionRevocationReasonUser
	if owner != caller.ID || caller.Kind != access.KindUser {
		if own || !caller.Can(access.UsersAdmin) {
			return es.Outcome{}, notFound("session", id) // another's session is not theirs to know of
		}
		reason = contracts.SessionRevocationReasonAdmin
	}
	out, err := es.ExecExisting(ctx, s.deps.Store, "session", id, domain.IsSessionID, invocation(caller, inv),
		func(ss *domain.Session) ([]es.Change, error) { return ss.Revoke(reason), nil })
	if err != nil {
		return out, err
	}
	return out, s.sync(ctx)
}
