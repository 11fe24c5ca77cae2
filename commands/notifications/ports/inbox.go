// Package ports is the HTTP side of the notifications context: the caller's in-app inbox
// (GET /v1/notifications, POST /v1/notifications/{id}/read, POST /v1/notifications/read-all)
// and who a /v1/notifications/ws session belongs to. The caller is the principal the router's
// authentication put in the request context (schemas/access); every route serves that
// principal's own inbox only.
package ports

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// DefaultLimit is the page size of GET /v1/notifications without limit.
const DefaultLimit = 50

// inbox is what the routes need of app.Inbox.
type inbox interface {
	List(ctx context.Context, userID string, q app.InboxQuery) (app.InboxPage, error)
	MarkRead(ctx context.Context, userID, messageID string, meta es.Meta) error
	MarkAllRead(ctx context.Context, userID string, meta es.Meta) error
}

// Mux is where the routes are registered (an http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register registers the inbox routes on mux.
func Register(mux Mux, in inbox, log *slog.Logger) {
	h := handlers{in: in, log: log}
	mux.Handle("GET /v1/notifications", http.HandlerFunc(h.list))
	mux.Handle("POST /v1/notifications/{id}/read", http.HandlerFunc(h.read))
	mux.Handle("POST /v1/notifications/read-all", http.HandlerFunc(h.readAll))
}

type handlers struct {
	in  inbox
	log *slog.Logger
}

// Caller is the user whose inbox a request reads: the principal's user id (an API token acts
// for the user it belongs to). No principal is a 401; a principal of no user (the platform's
// own workers, a token of nobody) has no inbox: 403.
func Caller(r *http.Request) (userID string, p access.Principal, err error) {
	p, ok := access.From(r.Context())
	if !ok {
		return "", p, problem.Unauthorized("sign in to read your notifications")
	}
	switch {
	case p.Kind == access.KindUser && p.ID != "":
		return p.ID, p, nil
	case p.Kind == access.KindToken && p.UserID != "":
		return p.UserID, p, nil
	}
	return "", p, problem.Forbidden("%s has no inbox: only users (and their API tokens) do", p.Actor())
}

// WebSocketUser identifies the user of a /v1/notifications/ws session (query-api/ws's
// Config.Authenticate): the caller, so a session receives its principal's own notifications
// only. Without a principal in the context, fallback (when set) decides: the notification
// directory's per-user tokens, until every route is behind the router's authentication.
func WebSocketUser(fallback func(*http.Request) (string, error)) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		if _, ok := access.From(r.Context()); !ok && fallback != nil {
			return fallback(r)
		}
		user, _, err := Caller(r)
		return user, err
	}
}

// item is an inbox item on the wire.
type item struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Severity  string    `json:"severity"`
	Subject   string    `json:"subject,omitempty"`
	Text      string    `json:"text,omitempty"`
	Channels  []string  `json:"channels"`
	CreatedAt time.Time `json:"created_at"`
	Read      bool      `json:"read"`
}

type page struct {
	Items      []item `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Unread     int    `json:"unread"`
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	user, _, err := Caller(r)
	if err != nil {
		problem.Error(w, r, h.log, err)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		problem.Error(w, r, h.log, err)
		return
	}
	res, err := h.in.List(r.Context(), user, q)
	if err != nil {
		problem.Error(w, r, h.log, err)
		return
	}
	out := page{Items: make([]item, 0, len(res.Items)), Unread: res.Unread}
	for _, it := range res.Items {
		out.Items = append(out.Items, item{ID: it.ID, Kind: it.Kind, Severity: it.Severity, Subject: it.Subject, Text: it.Text,
			Channels: it.Channels, CreatedAt: it.CreatedAt.UTC(), Read: it.Read})
	}
	if res.Next > 0 {
		out.NextCursor = encodeCursor(res.Next)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // one user's inbox, changing with every read
	_ = json.NewEncoder(w).Encode(out)
}

func parseQuery(r *http.Request) (app.InboxQuery, error) {
	v := r.URL.Query()
	q := app.InboxQuery{Limit: DefaultLimit}
	if s := v.Get("unread"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, problem.Invalid("unread", "unread must be true or false")
		}
		q.UnreadOnly = b
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return q, problem.Invalid("limit", "limit must be an integer between 1 and 500")
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		pos, ok := decodeCursor(s)
		if !ok {
			return q, problem.Invalid("cursor", "cursor is not a next_cursor this endpoint returned")
		}
		q.Before = pos
	}
	return q, nil
}

// A cursor is opaque to clients: the position the next page starts before.
func encodeCursor(pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n:" + strconv.FormatInt(pos, 10)))
}

func decodeCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 3 || string(b[:2]) != "n:" {
		return 0, false
	}
	pos, err := strconv.ParseInt(string(b[2:]), 10, 64)
	return pos, err == nil && pos > 0
}

func (h handlers) read(w http.ResponseWriter, r *http.Request) {
	user, p, err := Caller(r)
	if err == nil {
		err = h.in.MarkRead(r.Context(), user, r.PathValue("id"), es.Meta{Actor: p.Actor()})
	}
	h.done(w, r, err)
}

func (h handlers) readAll(w http.ResponseWriter, r *http.Request) {
	user, p, err := Caller(r)
	if err == nil {
		err = h.in.MarkAllRead(r.Context(), user, es.Meta{Actor: p.Actor()})
	}
	h.done(w, r, err)
}

// done answers a mark: 204, also when it was read already (marking is idempotent).
func (h handlers) done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		problem.Error(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
