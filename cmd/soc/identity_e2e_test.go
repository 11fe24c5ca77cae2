package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// What the authorisation end-to-end tests share: signing in as a given principal, and the
// admin's set-up steps (teams, users, assets, imports) through the public API of a real node.
// The node's bootstrap admin is the seam's (testclient_test.go): requests without an
// Authorization of their own act as that admin.

// sessionTokens is what POST /v1/auth/login and /v1/auth/refresh answer.
type sessionTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	SessionID    string `json:"session_id"`
}

// signIn signs in with a password and fails the test unless the node answers 200 with tokens.
func signIn(t *testing.T, c apiClient, email, password string) sessionTokens {
	t.Helper()
	r := c.do(http.MethodPost, "/v1/auth/login", jsonOf(t, map[string]string{"email": email, "password": password}))
	return tokensOf(t, "login of "+email, r)
}

// tokensOf decodes a sign-in answer (login, refresh, invitation accepted).
func tokensOf(t *testing.T, what string, r apiResponse) sessionTokens {
	t.Helper()
	var s sessionTokens
	if r.status/100 != 2 || json.Unmarshal(r.body, &s) != nil || s.AccessToken == "" || s.RefreshToken == "" || s.TokenType != "Bearer" {
		t.Fatalf("%s: %d %s", what, r.status, r.body)
	}
	return s
}

// bearerClient acts with one credential, never the seam's admin.
type bearerClient struct {
	apiClient
	token string
}

func (b bearerClient) do(method, path, body string, header ...string) apiResponse {
	b.t.Helper()
	return b.apiClient.do(method, path, body, append([]string{"Authorization", "Bearer " + b.token}, header...)...)
}

func (b bearerClient) get(path string, header ...string) apiResponse {
	b.t.Helper()
	return b.do(http.MethodGet, path, "", header...)
}

// reader is a client of the read API: the seam's admin (apiClient) or a bearerClient.
type reader interface {
	get(path string, header ...string) apiResponse
}

// as is c acting with token.
func as(c apiClient, token string) bearerClient { return bearerClient{apiClient: c, token: token} }

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustStatus fails the test unless r has status want, and returns its JSON object.
func mustStatus(t *testing.T, what string, r apiResponse, want int) map[string]any {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: %d %s, want %d", what, r.status, r.body, want)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(t)
}

// createTeam creates a team as the admin and returns its name (what assets' owner_team and a
// principal's teams name).
func createTeam(t *testing.T, admin apiClient, name string) string {
	t.Helper()
	m := mustStatus(t, "creating team "+name, admin.do(http.MethodPost, "/v1/teams", jsonOf(t, map[string]string{"name": name})), http.StatusCreated)
	if got, _ := m["name"].(string); got != name || m["id"] == nil {
		t.Fatalf("team %s created as %v", name, m)
	}
	return name
}

// member is a user the admin created, signed in with the password it was given.
type member struct {
	id, email, password string
	tokens              sessionTokens
	bearerClient
}

// newMember creates a user with role (in teams) as the admin and signs them in.
func newMember(t *testing.T, admin apiClient, email, role string, teams ...string) member {
	t.Helper()
	pw := "pw-" + randomSuffix() + randomSuffix()
	body := map[string]any{"email": email, "password": pw, "roles": []string{role}}
	if len(teams) > 0 {
		body["teams"] = teams
	}
	m := mustStatus(t, "creating user "+email, admin.do(http.MethodPost, "/v1/users", jsonOf(t, body)), http.StatusCreated)
	id, _ := m["id"].(string)
	if id == "" {
		t.Fatalf("user %s created without an id: %v", email, m)
	}
	s := signIn(t, admin, email, pw)
	return member{id: id, email: email, password: pw, tokens: s, bearerClient: as(admin, s.AccessToken)}
}

// registerAsset registers a host owned by team as the admin: its id and the command's position.
func registerAsset(t *testing.T, admin apiClient, name, team string) (string, int64) {
	t.Helper()
	m := mustStatus(t, "registering asset "+name, admin.do(http.MethodPost, "/v1/assets", jsonOf(t, map[string]any{
		"kind": "host", "name": name, "identifiers": map[string]any{"hostnames": []string{name + ".e2e.example.com"}}, "owner_team": team})), http.StatusCreated)
	id, _ := m["stream_id"].(string)
	pos, _ := m["global_position"].(float64)
	if id == "" || pos == 0 {
		t.Fatalf("asset %s registered without a stream id or position: %v", name, m)
	}
	return id, int64(pos)
}

// importOnto uploads report, a scan that does not name its asset, onto asset (POST
// /v1/scans/imports?asset=) as c and waits for the import to finish: its summary.
func importOnto(t *testing.T, c apiClient, report, asset string) importSummary {
	t.Helper()
	body, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	m := mustStatus(t, "importing "+report, c.do(http.MethodPost, "/v1/scans/imports?asset="+url.QueryEscape(asset), string(body)), http.StatusAccepted)
	scan, _ := m["scan_id"].(string)
	var job struct {
		State   string `json:"state"`
		Done    int64  `json:"findings_done"`
		Error   string `json:"error"`
		Summary struct {
			importSummary
			Matched int `json:"assets_matched"`
		} `json:"summary"`
	}
	waitProgress(t, "the import of "+report, func() (bool, int64) {
		r := c.get("/v1/scans/" + scan + "/import")
		if r.status != http.StatusOK || json.Unmarshal(r.body, &job) != nil {
			t.Fatalf("import status: %d %s", r.status, r.body)
		}
		if job.State == "failed" {
			t.Fatalf("the import of %s failed: %s", report, job.Error)
		}
		return job.State == "completed", job.Done
	})
	// ?asset= is where the findings of a report asset that does not identify itself go (a
	// filesystem scan): the report must be one, or its findings would land elsewhere.
	if s := job.Summary; s.New == 0 || s.Matched != 1 || s.Assets != 0 {
		t.Fatalf("the import of %s onto %s: %+v, want new findings on that one asset", report, asset, s)
	}
	return job.Summary.importSummary
}

// pagedFindings lists every finding query matches, as c sees them, page by page (small pages:
// the cursors are part of what is checked).
func pagedFindings(t *testing.T, c reader, query string) []findingJSON {
	t.Helper()
	var all []findingJSON
	for cursor := ""; ; {
		r := c.get("/v1/findings?limit=2&sort=id" + query + cursor)
		var p findingsPage
		if r.status != http.StatusOK || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("GET /v1/findings?%s: %d %s", query, r.status, r.body)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		cursor = "&cursor=" + url.QueryEscape(p.NextCursor)
	}
}

// findingIDs are the ids of fs, sorted.
func findingIDs(fs []findingJSON) []string {
	ids := make([]string, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	return ids
}

// auditStreams pages through GET /v1/events (query added) as c sees it and returns the
// stream ids of its events, each once.
func auditStreams(t *testing.T, c reader, query string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	path := "/v1/events?limit=1000" + query
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			t.Fatal("GET /v1/events: more than 1000 pages")
		}
		r := c.get(path)
		var p struct {
			Items []struct {
				StreamID string `json:"stream_id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		for _, e := range p.Items {
			seen[e.StreamID] = true
		}
		path = ""
		if p.Next != "" {
			u, err := url.Parse(p.Next)
			if err != nil {
				t.Fatalf("next %q: %v", p.Next, err)
			}
			path = u.RequestURI()
		}
	}
	return seen
}

// issueWSTicket asks for a WebSocket ticket as c.
func issueWSTicket(t *testing.T, c bearerClient) string {
	t.Helper()
	m := mustStatus(t, "POST /v1/ws-tickets", c.do(http.MethodPost, "/v1/ws-tickets", ""), http.StatusCreated)
	ticket, _ := m["ticket"].(string)
	if ticket == "" {
		t.Fatalf("no ticket in %v", m)
	}
	return ticket
}

// dialTicket opens /ws with a ticket as a browser does (no Authorization header) and subscribes
// to types; the connection is closed when the test ends.
func dialTicket(t *testing.T, addr, ticket string, types ...string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?ticket="+url.QueryEscape(ticket), http.Header{"Origin": {"http://" + addr}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dialing /ws with a ticket: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WriteJSON(map[string]any{"type": "subscribe", "filter": map[string]any{"types": types}}); err != nil {
		t.Fatal(err)
	}
	// Until the hub has read the subscription, the connection gets what a connection with no
	// filter gets: events projected meanwhile (an API token issued just before) may come first.
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		var ack map[string]any
		if err := c.ReadJSON(&ack); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		if ack["type"] == "subscribed" {
			return c
		}
		if ack["type"] != "event" {
			t.Fatalf("subscribe: %v", ack)
		}
	}
}

// nextEvent reads ws until an event message arrives (bounded, generously: a loaded machine).
func nextEvent(t *testing.T, ws *websocket.Conn) liveMessage {
	t.Helper()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(3 * time.Minute))
		var msg liveMessage
		if err := ws.ReadJSON(&msg); err != nil {
			t.Fatalf("WebSocket: no event: %v", err)
		}
		if msg.Type == "event" {
			return msg
		}
	}
}

// setOf is ids as a set.
func setOf(ids ...[]string) map[string]bool {
	s := map[string]bool{}
	for _, l := range ids {
		for _, id := range l {
			s[id] = true
		}
	}
	return s
}

// sameIDs fails the test unless got and want hold the same ids.
func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %d ids, want %d\n got  %s\n want %s", what, len(got), len(want), strings.Join(got, " "), strings.Join(want, " "))
	}
}
