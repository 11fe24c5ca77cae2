// Package app holds the identity context's use cases: users, teams, roles, invitations, API
// tokens and sessions (login, refresh, logout), the Authenticator every request goes through,
// the bootstrap of the first admin and SSO provisioning. Commands load their aggregate
// (commands/internal/es), check against the directory what the aggregate cannot see (an email
// another user holds, the last active admin, whether a role exists), and append what it decided.
//
// Secrets never leave this package but once: a refresh token, API token or invitation secret
// is returned to its caller when created and only its hash is appended; passwords are hashed
// (argon2id) before anything sees them. Nothing here logs.
package app

import (
	"context"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/internal/background"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// AccessClaims is what a verified access token says (the shape of tokens.Claims).
type AccessClaims struct {
	Subject, SessionID, ID string
	IssuedAt, Expiry       time.Time
}

// Keyring issues and verifies access tokens (JWTs): *tokens.Keyring behind a two-line adapter.
type Keyring interface {
	Issue(subject, sessionID string) (token string, expires time.Time, err error)
	Verify(token string) (AccessClaims, error)
}

// Passwords hashes and verifies passwords: tokens.HashPassword with DefaultPasswordParams and
// tokens.VerifyPassword (argon2id, PHC strings).
type Passwords interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (ok, needsRehash bool, err error)
}

// Secrets makes the opaque secrets (refresh tokens, API tokens, invitations) and hashes them:
// tokens.NewSecret and tokens.HashSecret.
type Secrets interface {
	New(prefix string) (plain, hash string, err error)
	Hash(plain string) string
}

// LastUsedSink receives API tokens' last-used times (the identity read model implements it).
type LastUsedSink interface {
	RecordTokensUsed(ctx context.Context, used map[string]time.Time) error
}

// Secret prefixes: what a credential is shows in its first characters.
const (
	PrefixAPIToken   = "soc_pat_"
	PrefixRefresh    = "soc_rt_"
	PrefixInvitation = "soc_inv_"
)

// Deps is what a Service runs on.
type Deps struct {
	Store     *events.Guarded
	Keyring   Keyring
	Passwords Passwords
	Secrets   Secrets
	// Now is the clock (default time.Now): sessions, tokens, invitations and lockouts expire
	// by it.
	Now func() time.Time
	// Snapshots keeps the directory's snapshot (zero: none, rebuilt from $all at start).
	Snapshots      snapshot.Dir
	SnapshotPolicy snapshot.Policy
	// LastUsed receives API tokens' last use (nil: kept in memory only).
	LastUsed LastUsedSink
}

// Service runs the identity context.
type Service struct {
	deps    Deps
	cfg     Config
	now     func() time.Time
	dir     *directory
	lock    *lockout
	dummyMu sync.Mutex
	dummy   string // the hash an unknown email's password is checked against

	// verified are the access tokens whose signature checked out (every request's hot path).
	verified *verifiedTokens

	// register serialises the commands whose invariant spans users (unique email, last admin)
	// within this process.
	register sync.Mutex

	restored  bool
	snapTrack snapshot.Tracker
	follower  background.Follower
}

// New returns a Service; call Load (or Start) before use.
func New(deps Deps, cfg Config) *Service {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Service{deps: deps, cfg: cfg, now: deps.Now, dir: newDirectory(), lock: newLockout(cfg, deps.Now), verified: newVerifiedTokens(),
		snapTrack: snapshot.Tracker{Policy: deps.SnapshotPolicy}}
}

// Load restores the directory from its snapshot and catches up with $all.
func (s *Service) Load(ctx context.Context) error {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	if err := s.restore(ctx); err != nil {
		return err
	}
	return s.syncLocked(ctx)
}

// Start loads the directory, then follows the store until ctx ends (sessions, tokens and users
// another node writes), flushing API tokens' last use every Config.LastUsedFlush.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Load(ctx); err != nil {
		return err
	}
	s.follower.Start(ctx, func() error {
		go s.flushLoop(ctx)
		c := &eventlog.StoreConsumer{Store: s.deps.Store, Filter: eventlog.Filter{Contexts: []string{"identity"}},
			StartFrom: func(context.Context) (int64, error) {
				s.dir.mu.RLock()
				defer s.dir.mu.RUnlock()
				return s.dir.cursor.Position, nil
			}}
		return c.Run(ctx, func(_ context.Context, batch []events.Envelope) error {
			s.dir.mu.Lock()
			defer s.dir.mu.Unlock()
			if err := s.dir.applyBatch(batch); err != nil {
				return err
			}
			s.snapshotIfDue()
			return nil
		})
	}, func() error {
		err := s.SaveSnapshot()
		_ = s.FlushLastUsed(context.WithoutCancel(ctx))
		return err
	})
	return nil
}

// Wait blocks until the follower started by Start stopped and returns what stopped it.
func (s *Service) Wait() error { return s.follower.Wait() }

func (s *Service) flushLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.LastUsedFlush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.FlushLastUsed(ctx) // kept for the next round on failure
		}
	}
}

// SetLastUsed makes sink receive API tokens' last use from the next flush on: the node's read
// database, which opens after the identity module (cmd/soc's projections and query targets).
func (s *Service) SetLastUsed(sink LastUsedSink) {
	s.dir.mu.Lock()
	s.deps.LastUsed = sink
	s.dir.mu.Unlock()
}

// FlushLastUsed hands the last-used times recorded since the previous flush to Deps.LastUsed.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	s.dir.mu.Lock()
	sink := s.deps.LastUsed
	if sink == nil {
		s.dir.mu.Unlock()
		return nil
	}
	used := s.dir.unflushed
	s.dir.unflushed = map[string]time.Time{}
	s.dir.mu.Unlock()
	if len(used) == 0 {
		return nil
	}
	if err := sink.RecordTokensUsed(ctx, used); err != nil {
		s.dir.mu.Lock()
		for id, t := range used {
			if t.After(s.dir.unflushed[id]) {
				s.dir.unflushed[id] = t
			}
		}
		s.dir.mu.Unlock()
		return err
	}
	return nil
}

// sync catches the directory up with $all (what this and other nodes appended).
func (s *Service) sync(ctx context.Context) error {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	return s.syncLocked(ctx)
}

func (s *Service) syncLocked(ctx context.Context) error {
	if err := eventlog.ReadToHead(ctx, s.deps.Store, s.dir.cursor.Position, 1000, s.dir.applyBatch); err != nil {
		return err
	}
	s.snapshotIfDue()
	return nil
}

// exec runs one command on streamID (es.Exec) and catches the directory up with what it wrote.
func (s *Service) exec(ctx context.Context, streamID string, agg es.Aggregate, inv es.Invocation, decide func() ([]es.Change, error)) (es.Outcome, error) {
	out, err := es.Exec(ctx, s.deps.Store, streamID, agg, inv, decide)
	if err != nil {
		return out, err
	}
	return out, s.sync(ctx)
}

// read runs fn on the directory under its read lock.
func (s *Service) read(fn func(d *directory)) {
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	fn(s.dir)
}

// invocation is inv acting as p (the envelope's actor).
func invocation(p access.Principal, inv es.Invocation) es.Invocation {
	inv.Meta.Actor = p.Actor()
	return inv
}

// requireAdmin refuses callers without users:admin (403): the identity API checks it itself,
// whatever the router declares, because it hands out what every other permission derives from.
func requireAdmin(p access.Principal) error {
	if !p.Can(access.UsersAdmin) {
		return problem.Forbidden("this needs the %s permission", access.UsersAdmin)
	}
	return nil
}

// notFound is the 404 of an identity aggregate.
func notFound(what, id string) error { return &es.NotFoundError{What: what, ID: id} }

// SchemaNames lists the command schemas the HTTP ports read bodies with.
var SchemaNames = []string{"identity/Login", "identity/RefreshSession", "identity/Logout", "identity/CreateUser",
	"identity/DisableUser", "identity/EnableUser", "identity/SetUserRoles", "identity/CreateTeam", "identity/AddTeamMember",
	"identity/DefineRole", "identity/IssueInvitation", "identity/AcceptInvitation", "identity/IssueApiToken",
	"identity/SetNotificationPreferences"}
