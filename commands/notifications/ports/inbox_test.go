package ports

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/access"
)

// server is the inbox routes over a real store holding notifications for alice and bob.
type server struct {
	t   *testing.T
	mux *http.ServeMux
	ids map[string]string // subject → message id
}

func newServer(t *testing.T) *server {
	t.Helper()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	svc := app.NewService(store, nil, nil)
	s := &server{t: t, mux: http.NewServeMux(), ids: map[string]string{}}
	for i, n := range []struct{ user, subject string }{{"alice", "a1"}, {"alice", "a2"}, {"alice", "a3"}, {"bob", "b1"}} {
		r, err := svc.Request(context.Background(), app.Request{Trigger: "t" + string(rune('0'+i)), Channel: channels.ChannelEmail,
			Recipient: channels.Recipient{UserID: n.user, Email: n.user + "@example.com"}, Kind: channels.KindKEVAlert, Severity: "high",
			Subject: n.subject, Text: "text"})
		if err != nil {
			t.Fatal(err)
		}
		s.ids[n.subject] = r.MessageID
	}
	in, err := app.NewInbox(app.InboxConfig{Store: store, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	Register(s.mux, in, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return s
}

var (
	aliceUser  = access.Principal{Kind: access.KindUser, ID: "alice"}
	aliceToken = access.Principal{Kind: access.KindToken, ID: "tok-1", UserID: "alice"}
	bobUser    = access.Principal{Kind: access.KindUser, ID: "bob"}
)

// do sends a request as p (nil: no principal) and returns the status and body.
func (s *server) do(p *access.Principal, method, target string) (int, map[string]any) {
	s.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if p != nil {
		r = r.WithContext(access.With(r.Context(), *p))
	}
	w := httptest.NewRecorder()
	s.mux.ServeHTTP(w, r)
	var body map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
		}
	}
	if w.Code >= 400 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		s.t.Fatalf("%s %s: %d answered as %q", method, target, w.Code, w.Header().Get("Content-Type"))
	}
	return w.Code, body
}

func subjectsOf(body map[string]any) []string {
	var out []string
	items, _ := body["items"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["subject"].(string))
	}
	return out
}

func TestInboxRoutesServeTheCallersOwnInbox(t *testing.T) {
	s := newServer(t)
	if code, body := s.do(nil, "GET", "/v1/notifications"); code != http.StatusUnauthorized {
		t.Fatalf("no principal: %d %v", code, body)
	}
	sys := access.System("sla")
	if code, _ := s.do(&sys, "GET", "/v1/notifications"); code != http.StatusForbidden {
		t.Fatalf("a system principal: %d, want 403", code)
	}
	// Pages of two, newest first; an API token reads its user's inbox.
	code, body := s.do(&aliceToken, "GET", "/v1/notifications?limit=2")
	if code != 200 || strings.Join(subjectsOf(body), ",") != "a3,a2" || body["unread"] != 3.0 {
		t.Fatalf("alice's first page: %d %v", code, body)
	}
	_, body = s.do(&aliceUser, "GET", "/v1/notifications?limit=2&cursor="+body["next_cursor"].(string))
	if strings.Join(subjectsOf(body), ",") != "a1" || body["next_cursor"] != nil {
		t.Fatalf("alice's second page: %v", body)
	}
	if _, body := s.do(&bobUser, "GET", "/v1/notifications"); strings.Join(subjectsOf(body), ",") != "b1" {
		t.Fatalf("bob's inbox: %v", body)
	}

	// Bob cannot mark alice's notification: it is not found, and stays unread.
	if code, _ := s.do(&bobUser, "POST", "/v1/notifications/"+s.ids["a2"]+"/read"); code != http.StatusNotFound {
		t.Fatalf("bob reading alice's: %d, want 404", code)
	}
	for range 2 { // idempotent
		if code, body := s.do(&aliceUser, "POST", "/v1/notifications/"+s.ids["a2"]+"/read"); code != http.StatusNoContent {
			t.Fatalf("alice reading hers: %d %v", code, body)
		}
	}
	if _, body := s.do(&aliceUser, "GET", "/v1/notifications?unread=true"); strings.Join(subjectsOf(body), ",") != "a3,a1" || body["unread"] != 2.0 {
		t.Fatalf("alice's unread: %v", body)
	}
	if code, _ := s.do(&aliceUser, "POST", "/v1/notifications/read-all"); code != http.StatusNoContent {
		t.Fatalf("read-all: %d", code)
	}
	if _, body := s.do(&aliceUser, "GET", "/v1/notifications?unread=true"); len(subjectsOf(body)) != 0 || body["unread"] != 0.0 {
		t.Fatalf("alice's unread after read-all: %v", body)
	}
	if _, body := s.do(&bobUser, "GET", "/v1/notifications?unread=true"); body["unread"] != 1.0 {
		t.Fatalf("alice's read-all touched bob's inbox: %v", body)
	}
}

func TestInboxRoutesRefuseBadParameters(t *testing.T) {
	s := newServer(t)
	for _, q := range []string{"unread=maybe", "limit=0", "limit=501", "limit=x", "cursor=%21%21", "cursor=bm90LWEtY3Vyc29y"} {
		code, body := s.do(&aliceUser, "GET", "/v1/notifications?"+q)
		if code != http.StatusBadRequest {
			t.Errorf("?%s: %d %v, want 400", q, code, body)
		}
	}
}

func TestWebSocketUserIsThePrincipal(t *testing.T) {
	fallback := func(*http.Request) (string, error) { return "from-directory-token", nil }
	r := httptest.NewRequest("GET", "/v1/notifications/ws?user=bob", nil) // a query parameter names nobody
	if u, err := WebSocketUser(fallback)(r.WithContext(access.With(r.Context(), aliceToken))); u != "alice" || err != nil {
		t.Fatalf("a token's session: %q %v, want alice", u, err)
	}
	if u, err := WebSocketUser(fallback)(r); u != "from-directory-token" || err != nil {
		t.Fatalf("no principal, with the directory's tokens: %q %v", u, err)
	}
	if _, err := WebSocketUser(nil)(r); err == nil {
		t.Fatal("no principal and no fallback: accepted")
	}
	sys := access.System("x")
	if _, err := WebSocketUser(nil)(r.WithContext(access.With(r.Context(), sys))); err == nil {
		t.Fatal("a system principal got a session")
	}
}
