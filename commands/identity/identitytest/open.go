package identitytest

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
)

// Start is the start of every test clock.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Env is a Service under test with its doubles.
type Env struct {
	Svc       *app.Service
	Store     *events.Guarded
	Clock     *testsupport.Clock
	Keyring   *Keyring
	Passwords *Passwords
	Deps      app.Deps
	Config    app.Config
}

// Open returns a loaded Service over store with the test doubles and cfg (zero: the defaults).
func Open(tb testing.TB, store *events.Guarded, cfg *app.Config) *Env {
	tb.Helper()
	c := app.DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	clock := testsupport.NewClock(Start)
	kr := &Keyring{Now: clock.Now, TTL: c.AccessTTL}
	pw := &Passwords{M: 1}
	env := &Env{Store: store, Clock: clock, Keyring: kr, Passwords: pw, Config: c}
	env.Deps = app.Deps{Store: store, Keyring: kr, Passwords: pw, Secrets: Secrets{}, Now: clock.Now}
	env.Svc = app.New(env.Deps, c)
	if err := env.Svc.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return env
}

// Reopen is another Service over the same store and doubles (a restart, or another node).
func (e *Env) Reopen(tb testing.TB) *app.Service {
	tb.Helper()
	svc := app.New(e.Deps, e.Config)
	if err := svc.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return svc
}
