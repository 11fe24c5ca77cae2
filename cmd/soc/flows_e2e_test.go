package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/channels/smtptest"
)

// The scan → finding → notification flow on `soc serve`, with real peers: nmap scanning a
// loopback service, a go-smtp server with STARTTLS and AUTH, HTTP receivers that check the
// Slack/Teams payloads against their formats and verify the webhook signature, and a WebSocket
// session of the recipient.

const (
	smtpUser      = "soc-relay"
	smtpPass      = "relay-secret-for-tests"
	webhookSecret = "0123456789abcdef0123456789abcdef-webhook"
	alicePassword = "alice-password-0f1e2d3c4b5a"
	dlinkTitle    = "Firmware backdoor in some models of D-Link routers"
)

// dlinkService mimics the D-Link admin-bypass backdoor that nmap's stock NSE script
// http-dlink-backdoor detects: 401 from thttpd-alphanetworks, 200 for the secret User-Agent. It
// answers like the real thttpd (HTTP/1.0, the Server header on every answer, a 400 to
// non-HTTP probes), so that nmap's service detection recognises it as http on a random port
// (Go's net/http answers the probes differently and stays "unknown": the script never runs).
func dlinkService(t *testing.T) (port string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(c net.Conn) {
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(c))
		status, body, extra := "400 Bad Request", "<html><body>400 Bad Request</body></html>", ""
		if err == nil {
			if req.UserAgent() == "xmlset_roodkcableoj28840ybtide" {
				status, body = "200 OK", "<html><body>DIR-100 admin</body></html>"
			} else {
				status, body, extra = "401 Unauthorized", "<html><body>401 Unauthorized</body></html>", "WWW-Authenticate: Basic realm=\"DIR-100\"\r\n"
			}
		}
		out := "HTTP/1.0 " + status + "\r\nServer: thttpd-alphanetworks/2.23\r\nContent-Type: text/html\r\n" + extra + "Connection: close\r\n\r\n"
		if err != nil || req.Method != http.MethodHead {
			out += body
		}
		_, _ = io.WriteString(c, out)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port
}

// receivers are the Slack, Teams, webhook and SMS endpoints.
type receivers struct {
	t                        *testing.T
	slackSchema, teamsSchema *jsonschema.Schema
	teamsFailures            atomic.Int32 // answer 500 to this many Teams posts first
	smsStatus                atomic.Int32 // status the SMS API answers (500: always failing)

	mu         sync.Mutex
	slack      []map[string]any
	teams      []map[string]any
	teamsPosts int
	webhooks   []map[string]any
	deliveries []string
	sms        int
	problems   []string
}

func compileSchema(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(file, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startReceivers(t *testing.T) (*receivers, string) {
	rc := &receivers{t: t, slackSchema: compileSchema(t, "slack-incoming-webhook.schema.json"),
		teamsSchema: compileSchema(t, "teams-adaptive-card-message.schema.json")}
	rc.smsStatus.Store(http.StatusCreated)
	problem := func(format string, args ...any) {
		rc.mu.Lock()
		rc.problems = append(rc.problems, fmt.Sprintf(format, args...))
		rc.mu.Unlock()
	}
	decode := func(w http.ResponseWriter, r *http.Request, s *jsonschema.Schema) (map[string]any, []byte, bool) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return nil, nil, false
		}
		if r.Header.Get("Content-Type") != "application/json" {
			problem("%s: content type %q", r.URL.Path, r.Header.Get("Content-Type"))
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			problem("%s: not JSON: %v", r.URL.Path, err)
			http.Error(w, "bad json", 400)
			return nil, nil, false
		}
		if s != nil {
			if err := s.Validate(v); err != nil {
				problem("%s: payload does not match its format: %v\n%s", r.URL.Path, err, body)
				http.Error(w, "bad payload", 400)
				return nil, nil, false
			}
		}
		m, _ := v.(map[string]any)
		return m, body, true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack", func(w http.ResponseWriter, r *http.Request) {
		if m, _, ok := decode(w, r, rc.slackSchema); ok {
			rc.mu.Lock()
			rc.slack = append(rc.slack, m)
			rc.mu.Unlock()
			_, _ = io.WriteString(w, "ok")
		}
	})
	mux.HandleFunc("POST /teams", func(w http.ResponseWriter, r *http.Request) {
		m, _, ok := decode(w, r, rc.teamsSchema)
		if !ok {
			return
		}
		rc.mu.Lock()
		rc.teamsPosts++
		rc.mu.Unlock()
		if rc.teamsFailures.Add(-1) >= 0 {
			http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
			return
		}
		rc.mu.Lock()
		rc.teams = append(rc.teams, m)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		m, body, ok := decode(w, r, nil)
		if !ok {
			return
		}
		if err := channels.VerifyWebhook([]byte(webhookSecret), r.Header, body, time.Now(), 5*time.Minute); err != nil {
			problem("webhook signature: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if id := r.Header.Get(channels.HeaderDelivery); id == "" || m["id"] != id {
			problem("webhook delivery id %q vs body id %v", id, m["id"])
		}
		rc.mu.Lock()
		rc.webhooks = append(rc.webhooks, m)
		rc.deliveries = append(rc.deliveries, r.Header.Get(channels.HeaderDelivery))
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sms/2010-04-01/Accounts/{sid}/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.sms++
		rc.mu.Unlock()
		code := int(rc.smsStatus.Load())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if code < 300 {
			_, _ = io.WriteString(w, `{"sid":"SM00000000000000000000000000000001","status":"queued"}`)
		} else {
			_, _ = io.WriteString(w, `{"code":20500,"message":"internal error","status":500}`)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rc, "http://" + ln.Addr().String()
}

func (rc *receivers) check() {
	rc.t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, p := range rc.problems {
		rc.t.Error(p)
	}
}

// notifyEnv starts an SMTP server and the receivers and returns the node's environment.
func notifyEnv(t *testing.T, smtpOpts smtptest.Options) (env []string, mail *smtptest.Server, rc *receivers) {
	t.Helper()
	smtpOpts.TLS, smtpOpts.Username, smtpOpts.Password = true, smtpUser, smtpPass
	mail, err := smtptest.Start(smtpOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	dir := t.TempDir()
	ca := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(ca, mail.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	directory := map[string]any{
		"users": []map[string]any{
			{"id": "alice", "name": "Alice Analyst", "email": "alice@example.com", "phone": "+14155550101", "lead": "bob",
				"channels": []string{"email", "sms", "websocket"}},
			{"id": "bob", "name": "Bob Lead", "email": "bob@example.com"},
		},
		"teams":    []map[string]any{{"name": "platform", "members": []string{"alice"}, "lead": "bob"}},
		"fallback": []string{"bob"},
	}
	b, _ := json.Marshal(directory)
	dirFile := filepath.Join(dir, "directory.json")
	if err := os.WriteFile(dirFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rc, base := startReceivers(t)
	env = []string{
		"SOC_SMTP_ADDR=" + mail.Addr(), "SOC_SMTP_FROM=SOC <soc@example.com>", "SOC_SMTP_USERNAME=" + smtpUser,
		"SOC_SMTP_PASSWORD=" + smtpPass, "SOC_SMTP_STARTTLS=true", "SOC_SMTP_CA_FILE=" + ca,
		"SOC_SLACK_WEBHOOK_URL=" + base + "/slack", "SOC_TEAMS_WEBHOOK_URL=" + base + "/teams",
		"SOC_WEBHOOK_URL=" + base + "/webhook", "SOC_WEBHOOK_SECRET=" + webhookSecret,
		"SOC_SMS_URL=" + base + "/sms", "SOC_SMS_ACCOUNT_SID=AC0123456789abcdef", "SOC_SMS_AUTH_TOKEN=sms-token", "SOC_SMS_FROM=+14155550100",
		"SOC_NOTIFY_DIRECTORY=" + dirFile,
		"SOC_NOTIFY_MAX_ATTEMPTS=3", "SOC_NOTIFY_BACKOFF=200ms", "SOC_NOTIFY_MAX_BACKOFF=1s",
		"SOC_SCAN_ALLOWED_TARGETS=127.0.0.0/8",
	}
	return env, mail, rc
}

func requireNmap(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nmap"); err != nil {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			t.Fatal("nmap is not installed but SOC_REQUIRE_SERVERS=1 (.ci/run installs the Debian package nmap)")
		}
		t.Skip("nmap not installed (Debian package nmap)")
	}
}

func mailsTo(m *smtptest.Server, rcpt, subject string) []smtptest.Mail {
	var out []smtptest.Mail
	for _, x := range m.Mails() {
		if slices.Contains(x.To, rcpt) && strings.Contains(x.Subject, subject) {
			out = append(out, x)
		}
	}
	return out
}

func eventsOfType(c apiClient, typ string, extra string) []map[string]any {
	r := c.get("/v1/events?type=" + typ + "&limit=1000" + extra)
	if r.status != 200 {
		c.t.Fatalf("GET /v1/events?type=%s: %d %s", typ, r.status, r.body)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		c.t.Fatal(err)
	}
	return page.Items
}

func scanFlow(t *testing.T, extraEnv []string, args ...string) {
	requireNmap(t)
	env, mail, rc := notifyEnv(t, smtptest.Options{})
	env = append(env, extraEnv...)
	rc.teamsFailures.Store(1)                          // Teams answers 500 once: retried with backoff
	rc.smsStatus.Store(http.StatusInternalServerError) // SMS always fails: dead letter, blocking nothing
	port := dlinkService(t)
	n := startNode(t, env, args...)
	t.Cleanup(func() { dumpOnFailure(t, n, env) })
	c := apiClient{t: t, base: "http://" + n.addr}

	// The recipient's WebSocket session (a session without the token is refused).
	wsURL := "ws://" + n.addr + "/v1/notifications/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a session without a token: %v %v, want 401", err, resp)
	}
	// Alice signs in as a platform user; the directory file addresses her by her email.
	if r := c.do("POST", "/v1/users", `{"email":"alice@example.com","password":"`+alicePassword+`","roles":["analyst"]}`); r.status != http.StatusCreated {
		t.Fatalf("creating alice: %d %s", r.status, r.body)
	}
	aliceToken := login(t, c.base, "alice@example.com", alicePassword)
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + aliceToken}})
	if err != nil {
		t.Fatalf("alice's session: %v", err)
	}
	defer ws.Close()
	wsMsgs := make(chan map[string]any, 16)
	go func() {
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				close(wsMsgs)
				return
			}
			wsMsgs <- m
		}
	}()

	// The production asset the scan finds, owned by alice's team.
	r := c.do("POST", "/v1/assets", `{"kind":"host","name":"edge-router","identifiers":{"ips":["127.0.0.1"]},"environment":"production","criticality":"high","owner_team":"platform"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("registering the asset: %d %s", r.status, r.body)
	}
	assetID, _ := r.json(t)["stream_id"].(string)
	// A scan definition of nmap against that asset (127.0.0.1) that runs every few seconds.
	// Loopback addresses identify no asset by themselves, so the definition names it.
	r = c.do("POST", "/v1/scan-definitions", fmt.Sprintf(`{"name":"edge nmap","scanner":"nmap","target":{"asset_id":%q},
		"options":{"ports":"%s","scripts":["http-dlink-backdoor"],"service_detection":true,"timing":4,"host_timeout_seconds":60},
		"schedule":"@every 5s","timeout_seconds":120,"max_attempts":2,"retry_backoff_seconds":1}`, assetID, port))
	if r.status != http.StatusCreated {
		t.Fatalf("creating the scan definition: %d %s", r.status, r.body)
	}
	defID, _ := r.json(t)["id"].(string)

	// The scheduled scan runs, its finding is imported, and alice is told: one email.
	eventually(t, "the scheduled scan's email to alice", func() bool {
		return len(mailsTo(mail, "alice@example.com", "new finding")) > 0
	})
	// Wait for a second scheduled run to complete: it sees the same finding, which is not new.
	eventually(t, "two completed scheduled runs", func() bool {
		return len(eventsOfType(c, "ScanCompleted", "")) >= 2
	})
	if r := c.do("DELETE", "/v1/scan-definitions/"+defID, ""); r.status >= 300 {
		t.Fatalf("deleting the definition: %d %s", r.status, r.body)
	}
	got := mailsTo(mail, "alice@example.com", "new finding")
	if len(got) != 1 {
		t.Fatalf("alice got %d new-findings emails, want exactly 1 (one per scan and recipient, nothing for a re-seen finding)", len(got))
	}
	m := got[0]
	if !m.TLS || m.AuthUser != smtpUser || m.MessageID == "" {
		t.Fatalf("email not sent over STARTTLS with AUTH: tls=%v auth=%q message-id=%q", m.TLS, m.AuthUser, m.MessageID)
	}
	if !bytes.Contains(m.Data, []byte("D-Link")) || !strings.Contains(m.Subject, "1 new finding") {
		t.Fatalf("the email does not list the finding: %s\n%s", m.Subject, m.Data)
	}

	// Slack, Teams (after one 500) and the signed webhook got the same news, once each.
	eventually(t, "Slack, Teams and webhook deliveries", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.slack) >= 1 && len(rc.teams) >= 1 && len(rc.webhooks) >= 1
	})
	rc.check()
	rc.mu.Lock()
	if len(rc.slack) != 1 || len(rc.teams) != 1 || rc.teamsPosts != 2 || len(rc.webhooks) != 1 {
		t.Errorf("deliveries: slack %d, teams %d accepted of %d posts, webhook %d; want 1, 1 of 2, 1", len(rc.slack), len(rc.teams), rc.teamsPosts, len(rc.webhooks))
	}
	if b, _ := json.Marshal(rc.slack[0]["blocks"]); !strings.Contains(string(b), "D-Link") {
		t.Errorf("the Slack blocks do not name the finding: %s", b)
	}
	if b, _ := json.Marshal(rc.teams[0]); !strings.Contains(string(b), "D-Link") {
		t.Errorf("the Teams card does not name the finding: %s", b)
	}
	if rc.webhooks[0]["kind"] != "new_findings" {
		t.Errorf("webhook payload kind %v", rc.webhooks[0]["kind"])
	}
	rc.mu.Unlock()

	// Alice's WebSocket session received the notification.
	deadline := time.After(time.Minute)
	for got := false; !got; {
		select {
		case msg, ok := <-wsMsgs:
			if !ok {
				t.Fatal("alice's WebSocket session closed")
			}
			got = msg["type"] == "notification" && msg["kind"] == "new_findings" && strings.Contains(fmt.Sprint(msg["text"]), "D-Link")
		case <-deadline:
			t.Fatal("alice's WebSocket session got no notification")
		}
	}

	// SMS failed every attempt: dead-lettered with the reason, after its retries, while the
	// other channels delivered.
	eventually(t, "the SMS notification dead-lettered", func() bool {
		return len(eventsOfType(c, "NotificationDeadLettered", "")) >= 1
	})
	dead := eventsOfType(c, "NotificationDeadLettered", "")
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1 (the SMS)", len(dead))
	}
	data, _ := json.Marshal(dead[0]["data"])
	if !strings.Contains(string(data), "500") {
		t.Fatalf("dead letter without the reason: %s", data)
	}
	stream, _ := dead[0]["stream_id"].(string)
	failed := eventsOfType(c, "NotificationFailed", "&stream_id="+url.QueryEscape(stream))
	if len(failed) != 3 {
		t.Fatalf("the SMS notification failed %d times, want 3 attempts (SOC_NOTIFY_MAX_ATTEMPTS)", len(failed))
	}
	rc.mu.Lock()
	if rc.sms != 3 {
		t.Errorf("the SMS API got %d requests, want 3", rc.sms)
	}
	rc.mu.Unlock()

	// The saga instances are inspectable.
	out, errOut, code := socCmd(t, env, "sagas", "list", "--saga", "new_findings")
	if code != 0 || !strings.Contains(out, "new_findings") || !strings.Contains(out, "done") {
		t.Fatalf("soc sagas list: %d %s %s", code, out, errOut)
	}
	n.stop(t)
}

func TestScanToNotificationsEmbedded(t *testing.T) {
	dir := t.TempDir()
	scanFlow(t, []string{"SOC_DATA_DIR=" + dir})
}

func TestScanToNotificationsPostgresAndKafka(t *testing.T) {
	scanFlow(t, append(postgresKafkaEnv(t, "e2eflow"), "SOC_DATA_DIR="+t.TempDir()))
}

// sagaShow runs `soc sagas show SAGA KEY` and decodes the instance (nil when it does not exist).
func sagaShow(t *testing.T, env []string, saga, key string) map[string]any {
	t.Helper()
	out, errOut, code := socCmd(t, env, "sagas", "show", saga, key)
	if code == 3 {
		return nil
	}
	if code != 0 {
		t.Fatalf("soc sagas show %s %s: %d %s", saga, key, code, errOut)
	}
	var in map[string]any
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("soc sagas show: %v\n%s", err, out)
	}
	return in
}

func timersNamed(in map[string]any, name string) (pending, fired int) {
	ts, _ := in["timers"].([]any)
	for _, x := range ts {
		tm, _ := x.(map[string]any)
		if tm["name"] != name {
			continue
		}
		switch tm["status"] {
		case "pending":
			pending++
		case "fired":
			fired++
		}
	}
	return pending, fired
}

// A finding's SLA deadline survives a crash between the timer's creation and its deadline and
// fires exactly once; the escalation email, interrupted by a crash after the SMTP server accepted
// it but before the send was recorded, is sent again once with the same Message-ID; nothing else
// is ever sent twice.
func TestDeadlinesAndDeliveryAcrossCrashes(t *testing.T) {
	accepted := make(chan struct{})
	release := make(chan struct{})
	var blocked atomic.Bool
	env, mail, _ := notifyEnv(t, smtptest.Options{OnData: func(m smtptest.Mail) error {
		if strings.Contains(m.Subject, "SLA breached") && blocked.CompareAndSwap(false, true) {
			close(accepted) // the server has the whole message; its 250 waits for the test
			<-release
		}
		return nil
	}})
	// The report is from 2021: with the default SLA every finding would already be in breach.
	// Ten years keeps every deadline but the one the test sets in the future.
	policy := filepath.Join(t.TempDir(), "sla.json")
	if err := os.WriteFile(policy, []byte(`{"days":{"critical":3650,"high":3650,"medium":3650,"low":3650}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "SOC_DATA_DIR="+t.TempDir(), "SOC_NOTIFY_ATTEMPT_TIMEOUT=2s", "SOC_SLA_POLICY="+policy)
	report := filepath.Join(sharedTestdata(t), "trivy", "trivy_image_juice-shop-v12.10.2.json")

	n := startNode(t, env)
	c := apiClient{t: t, base: "http://" + n.addr}
	importInto(t, n, env, report)
	var finding string
	eventually(t, "a finding in the read model", func() bool {
		r := c.get("/v1/findings?limit=1&sort=id&severity=critical,high")
		var p findingsPage
		_ = json.Unmarshal(r.body, &p)
		if len(p.Items) > 0 {
			finding = p.Items[0].ID
		}
		return finding != ""
	})
	// Far enough ahead for the saga to arm the timer before it is due even on a loaded machine
	// (the test must crash the node between the two).
	due := time.Now().Add(25 * time.Second).UTC().Truncate(time.Second)
	if r := c.do("POST", "/v1/findings/"+finding+"/due-date", fmt.Sprintf(`{"due_at":%q,"reason":"test deadline"}`, due.Format(time.RFC3339))); r.status >= 300 {
		t.Fatalf("setting the due date: %d %s", r.status, r.body)
	}
	// The saga has armed the new deadline (the import's 7-day one is replaced).
	eventually(t, "the sla_due timer for the new deadline", func() bool {
		in := sagaShow(t, env, "finding_deadlines", finding)
		if in == nil {
			return false
		}
		for _, x := range in["timers"].([]any) {
			tm := x.(map[string]any)
			at, _ := time.Parse(time.RFC3339Nano, tm["due_at"].(string))
			if tm["name"] == "sla_due" && at.Equal(due) {
				if tm["status"] != "pending" {
					t.Fatalf("the timer was %s before the test could crash the node ahead of its deadline", tm["status"])
				}
				return true
			}
		}
		return false
	})
	// Crash before the deadline (once the import's own notifications are out, so that only the
	// escalation can legitimately be sent twice); stay down past the deadline.
	eventually(t, "the import's notifications delivered", func() bool { return pendingNotifications(t, c) == 0 && mail.Count() > 0 })
	_ = n.cmd.Process.Kill()
	<-n.done
	time.Sleep(time.Until(due) + time.Second)
	before := map[string]int{}
	for _, m := range mail.Mails() {
		before[m.MessageID]++
	}

	// Second life: the overdue timer fires, SLABreached is recorded, the escalation to the lead
	// (bob) is sent, and the process crashes while the SMTP server holds the accepted message.
	n = startNode(t, env)
	c.base = "http://" + n.addr
	select {
	case <-accepted:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the escalation email never reached the SMTP server\n%s", n.stderr)
	}
	_ = n.cmd.Process.Kill()
	<-n.done
	close(release)

	// Third life: the interrupted attempt is retried once, with the same Message-ID.
	n = startNode(t, env)
	c.base = "http://" + n.addr
	eventually(t, "the escalation email re-sent after the crash", func() bool {
		return len(mailsTo(mail, "bob@example.com", "SLA breached")) >= 2
	})
	eventually(t, "every notification delivered", func() bool { return pendingNotifications(t, c) == 0 })
	esc := mailsTo(mail, "bob@example.com", "SLA breached")
	if len(esc) != 2 || esc[0].MessageID == "" || esc[0].MessageID != esc[1].MessageID {
		t.Fatalf("escalation copies: %d with Message-IDs %v; want 2 with the same id", len(esc), func() []string {
			var ids []string
			for _, m := range esc {
				ids = append(ids, m.MessageID)
			}
			return ids
		}())
	}
	// Exactly one breach, one firing of the timer.
	r := c.get("/v1/streams/" + finding + "/events?limit=1000")
	if got := strings.Count(string(r.body), `"type":"SLABreached"`); got != 1 {
		t.Fatalf("%d SLABreached events on the finding, want 1", got)
	}
	if _, fired := timersNamed(sagaShow(t, env, "finding_deadlines", finding), "sla_due"); fired != 1 {
		t.Fatalf("the sla_due timer fired %d times, want 1", fired)
	}
	// Nothing else was sent twice: every other Message-ID arrived once.
	for id, k := range countByMessageID(mail.Mails()) {
		if id != esc[0].MessageID && k != 1 {
			t.Errorf("message %s delivered %d times", id, k)
		}
	}
	if len(before) == 0 {
		t.Error("no email before the first crash: the import's new-findings email is part of the check")
	}
	n.stop(t)
}

func countByMessageID(ms []smtptest.Mail) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		out[m.MessageID]++
	}
	return out
}

// pendingNotifications reads the notifier's pending count from /readyz.
func pendingNotifications(t *testing.T, c apiClient) int {
	t.Helper()
	resp, err := testClient.Get(c.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rd struct {
		Checks map[string]map[string]any `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rd); err != nil {
		t.Fatal(err)
	}
	p, ok := rd.Checks["notifier"]["pending"].(float64)
	if !ok {
		return -1
	}
	return int(p)
}

// dumpOnFailure prints the end of a node's log, and the events of its store that are not saga
// bookkeeping, when the test failed.
func dumpOnFailure(t *testing.T, n *node, env []string) {
	if !t.Failed() {
		return
	}
	if out, _, code := socCmd(t, env, "events", "tail"); code == 0 {
		var evs []string
		for _, l := range strings.Split(out, "\n") {
			var e struct {
				Type     string          `json:"type"`
				StreamID string          `json:"stream_id"`
				Data     json.RawMessage `json:"data"`
			}
			if json.Unmarshal([]byte(l), &e) != nil || strings.HasPrefix(e.Type, "Saga") {
				continue
			}
			d := string(e.Data)
			if len(d) > 300 {
				d = d[:300]
			}
			evs = append(evs, e.Type+" "+e.StreamID+" "+d)
		}
		if len(evs) > 80 {
			evs = evs[len(evs)-80:]
		}
		t.Logf("the store's last events (saga bookkeeping left out):\n%s", strings.Join(evs, "\n"))
	}
	lines := strings.Split(strings.TrimSpace(n.stderr.String()), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	t.Logf("last lines of the node's log:\n%s", strings.Join(lines, "\n"))
}
