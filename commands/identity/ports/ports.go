// Package ports holds the identity context's HTTP API: sign-in (login, refresh, logout,
// invitations), the caller's own account (/v1/me), and the administration of users, teams,
// roles, sessions and API tokens. Bodies are read strictly (jsonbody) and validated against
// schemas/commands/identity; every error is problem+json.
//
// Authentication is not done here: the router authenticates the bearer credential (through
// app.Service.Authenticate) and puts the principal in the request's context (access.With).
// The public routes (login, refresh, logout, invitations/accept, JWKS) need none; every other
// route answers 401 without a principal, and the app checks the permissions it hands out
// itself (users:admin), whatever the router declares.
package ports

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/httpcmd"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Config of the endpoints.
type Config struct {
	Schemas      fs.FS        // the command schemas (schemas.CommandsFS())
	MaxBodyBytes int64        // default 64 KiB: identity bodies are small
	Log          *slog.Logger // 5xx are logged here (never a body: bodies hold passwords)
	// JWKS, when set, is served at GET /.well-known/jwks.json (tokens.Keyring.JWKSHandler()).
	JWKS http.Handler
	// ClientAddress is the source address a login's failures count against (default: the
	// connection's host; behind a proxy, the address it forwards).
	ClientAddress func(r *http.Request) string
}

// Mux is where routes go (httpcmd.Mux: an *http.ServeMux, or a wrapper that records the
// patterns).
type Mux = httpcmd.Mux

// PublicRoutes are the routes that answer without authentication.
var PublicRoutes = []string{"POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/auth/logout",
	"POST /v1/invitations/accept", "GET /.well-known/jwks.json"}

type handlers struct {
	svc  *app.Service
	srv  *httpcmd.Server
	log  *slog.Logger
	addr func(r *http.Request) string
}

// Register adds the identity routes to mux.
func Register(mux Mux, svc *app.Service, cfg Config) error {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	srv, err := httpcmd.Open(cfg.Schemas, cfg.MaxBodyBytes, cfg.Log, app.SchemaNames...)
	if err != nil {
		return err
	}
	if cfg.ClientAddress == nil {
		cfg.ClientAddress = remoteHost
	}
	h := &handlers{svc: svc, srv: srv, log: cfg.Log, addr: cfg.ClientAddress}

	mux.Handle("POST /v1/auth/login", http.HandlerFunc(h.login))
	mux.Handle("POST /v1/auth/refresh", http.HandlerFunc(h.refresh))
	mux.Handle("POST /v1/auth/logout", http.HandlerFunc(h.logout))
	mux.Handle("POST /v1/invitations/accept", http.HandlerFunc(h.acceptInvitation))
	if cfg.JWKS != nil {
		mux.Handle("GET /.well-known/jwks.json", cfg.JWKS)
	}

	mux.Handle("GET /v1/me", h.authed(func(w http.ResponseWriter, _ *http.Request, p access.Principal) error {
		writeJSON(w, http.StatusOK, svc.WhoAmI(p))
		return nil
	}))
	mux.Handle("GET /v1/me/sessions", h.authed(func(w http.ResponseWriter, _ *http.Request, p access.Principal) error {
		return list(svc.Sessions(p, p.ID))(w)
	}))
	mux.Handle("DELETE /v1/me/sessions/{id}", h.authed(h.revokeSession(true)))
	mux.Handle("PUT /v1/me/preferences", command(h, "identity/SetNotificationPreferences", changed(svc.SetPreferences)))

	mux.Handle("GET /v1/users", h.authed(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return list(svc.Users(p, r.URL.Query().Get("email")))(w)
	}))
	mux.Handle("POST /v1/users", command(h, "identity/CreateUser", created(svc.CreateUser)))
	mux.Handle("GET /v1/users/{id}", h.authed(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		v, err := svc.User(p, r.PathValue("id"))
		if err == nil {
			writeJSON(w, http.StatusOK, v)
		}
		return err
	}))
	mux.Handle("POST /v1/users/{id}/disable", command(h, "identity/DisableUser", byID(svc.DisableUser)))
	mux.Handle("POST /v1/users/{id}/enable", command(h, "identity/EnableUser", byID(svc.EnableUser)))
	mux.Handle("PUT /v1/users/{id}/roles", command(h, "identity/SetUserRoles", byID(svc.SetRoles)))
	mux.Handle("GET /v1/users/{id}/sessions", h.authed(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return list(svc.Sessions(p, r.PathValue("id")))(w)
	}))
	mux.Handle("DELETE /v1/sessions/{id}", h.authed(h.revokeSession(false)))

	mux.Handle("GET /v1/teams", h.authed(func(w http.ResponseWriter, _ *http.Request, p access.Principal) error {
		return list(svc.Teams(p))(w)
	}))
	mux.Handle("POST /v1/teams", command(h, "identity/CreateTeam", created(svc.CreateTeam)))
	mux.Handle("POST /v1/teams/{id}/members", command(h, "identity/AddTeamMember", byID(svc.AddMember)))
	mux.Handle("DELETE /v1/teams/{id}/members/{user_id}", h.authed(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		inv, err := httpcmd.ParseCall(r)
		if err != nil {
			return err
		}
		return noContent(w)(svc.RemoveMember(r.Context(), p, r.PathValue("id"), r.PathValue("user_id"), inv))
	}))

	mux.Handle("GET /v1/roles", h.authed(func(w http.ResponseWriter, _ *http.Request, p access.Principal) error {
		return list(svc.Roles(p))(w)
	}))
	mux.Handle("POST /v1/roles", command(h, "identity/DefineRole", changed(svc.DefineRole)))

	mux.Handle("POST /v1/invitations", command(h, "identity/IssueInvitation", created(svc.Invite)))

	mux.Handle("GET /v1/tokens", h.authed(func(w http.ResponseWriter, _ *http.Request, p access.Principal) error {
		writeJSON(w, http.StatusOK, map[string]any{"items": svc.Tokens(p)})
		return nil
	}))
	mux.Handle("POST /v1/tokens", command(h, "identity/IssueApiToken", created(svc.IssueToken)))
	mux.Handle("DELETE /v1/tokens/{id}", h.authed(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		inv, err := httpcmd.ParseCall(r)
		if err != nil {
			return err
		}
		return noContent(w)(svc.RevokeToken(r.Context(), p, r.PathValue("id"), inv))
	}))
	return nil
}

// errUnauthenticated answers a protected route reached without a principal (the router did
// not authenticate: a wiring mistake, never an open door).
var errUnauthenticated = problem.Unauthorized("authentication required")

// authed serves fn with the request's principal, 401 without one.
func (h *handlers) authed(fn func(w http.ResponseWriter, r *http.Request, p access.Principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.From(r.Context())
		if !ok || p.ID == "" {
			problem.Error(w, r, h.log, errUnauthenticated)
			return
		}
		if err := fn(w, r, p); err != nil {
			problem.Error(w, r, h.log, err)
		}
	})
}

// command serves an authenticated command with a body: the body is read and validated
// against schema, fn answers with a value and a status.
func command[T any](h *handlers, schema string, fn func(ctx context.Context, r *http.Request, p access.Principal, cmd T, inv es.Invocation) (any, int, error)) http.Handler {
	return h.authed(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var cmd T
		inv, err := h.srv.Command(w, r, schema, &cmd)
		if err != nil {
			return err
		}
		v, status, err := fn(r.Context(), r, p, cmd, inv)
		if err != nil {
			return err
		}
		if res, ok := v.(httpcmd.Result); ok {
			httpcmd.Write(w, res)
			return nil
		}
		writeJSON(w, status, v)
		return nil
	})
}

// byID adapts a command on the aggregate the path's {id} names.
func byID[T any](fn func(ctx context.Context, p access.Principal, id string, cmd T, inv es.Invocation) (es.Outcome, error)) func(context.Context, *http.Request, access.Principal, T, es.Invocation) (any, int, error) {
	return func(ctx context.Context, r *http.Request, p access.Principal, cmd T, inv es.Invocation) (any, int, error) {
		return outcome(fn(ctx, p, r.PathValue("id"), cmd, inv))
	}
}

// created adapts a command that creates something and answers with its view (201).
func created[T, V any](fn func(ctx context.Context, p access.Principal, cmd T, inv es.Invocation) (V, error)) func(context.Context, *http.Request, access.Principal, T, es.Invocation) (any, int, error) {
	return func(ctx context.Context, _ *http.Request, p access.Principal, cmd T, inv es.Invocation) (any, int, error) {
		v, err := fn(ctx, p, cmd, inv)
		return v, http.StatusCreated, err
	}
}

// changed adapts a command whose path names no aggregate (the caller's own, a role by name).
func changed[T any](fn func(ctx context.Context, p access.Principal, cmd T, inv es.Invocation) (es.Outcome, error)) func(context.Context, *http.Request, access.Principal, T, es.Invocation) (any, int, error) {
	return func(ctx context.Context, _ *http.Request, p access.Principal, cmd T, inv es.Invocation) (any, int, error) {
		return outcome(fn(ctx, p, cmd, inv))
	}
}

// outcome answers a command's outcome the way every command endpoint does (httpcmd.Write).
func outcome(out es.Outcome, err error) (any, int, error) {
	return httpcmd.Result{Outcome: out}, 0, err
}

// noContent answers a removal: 204, its outcome (the stream's version) in the ETag.
func noContent(w http.ResponseWriter) func(es.Outcome, error) error {
	return func(out es.Outcome, err error) error {
		if err == nil {
			w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(out.Version, 10)))
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	}
}

// list answers {"items": [...]}.
func list[T any](items []T, err error) func(w http.ResponseWriter) error {
	return func(w http.ResponseWriter) error {
		if err == nil {
			if items == nil {
				items = []T{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"items": items})
		}
		return err
	}
}

func (h *handlers) revokeSession(own bool) func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		inv, err := httpcmd.ParseCall(r)
		if err != nil {
			return err
		}
		return noContent(w)(h.svc.RevokeSession(r.Context(), p, r.PathValue("id"), own, inv))
	}
}

// public serves an unauthenticated command: its answers are never cached (they hold secrets).
func public[T any](h *handlers, w http.ResponseWriter, r *http.Request, schema string, fn func(cmd T, inv es.Invocation) (any, int, error)) {
	w.Header().Set("Cache-Control", "no-store")
	var cmd T
	inv, err := h.srv.Command(w, r, schema, &cmd)
	if err == nil {
		var v any
		var status int
		if v, status, err = fn(cmd, inv); err == nil {
			if status == http.StatusNoContent {
				w.WriteHeader(status)
				return
			}
			writeJSON(w, status, v)
			return
		}
	}
	problem.Error(w, r, h.log, err)
}

func (h *handlers) login(w http.ResponseWriter, r *http.Request) {
	public(h, w, r, "identity/Login", func(cmd contracts.Login, inv es.Invocation) (any, int, error) {
		t, err := h.svc.Login(r.Context(), cmd.Email, cmd.Password, h.addr(r), inv)
		return t, http.StatusOK, err
	})
}

func (h *handlers) refresh(w http.ResponseWriter, r *http.Request) {
	public(h, w, r, "identity/RefreshSession", func(cmd contracts.RefreshSession, inv es.Invocation) (any, int, error) {
		t, err := h.svc.Refresh(r.Context(), cmd.RefreshToken, inv)
		return t, http.StatusOK, err
	})
}

func (h *handlers) logout(w http.ResponseWriter, r *http.Request) {
	public(h, w, r, "identity/Logout", func(cmd contracts.Logout, inv es.Invocation) (any, int, error) {
		return nil, http.StatusNoContent, h.svc.Logout(r.Context(), cmd.RefreshToken, inv)
	})
}

func (h *handlers) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	public(h, w, r, "identity/AcceptInvitation", func(cmd contracts.AcceptInvitation, inv es.Invocation) (any, int, error) {
		t, err := h.svc.AcceptInvitation(r.Context(), cmd, inv)
		return t, http.StatusCreated, err
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// remoteHost is the connection's host (without its port).
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
