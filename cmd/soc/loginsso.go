package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/commands/identity/sso"
	"github.com/socplatform/soc/schemas/problem"
)

// defaultSSOWait bounds how long `soc login --sso` waits for the browser to come back: long
// enough to type a password and a second factor, short enough that a forgotten terminal does
// not keep a listener open for ever.
const defaultSSOWait = 5 * time.Minute

// loopbackPath is where the CLI's listener expects the provider to send the browser back.
const loopbackPath = "/callback"

// ssoSignIn is one sign-in through the node's identity provider the way native apps do it
// (RFC 8252, as `gh auth login` does): the provider sends the browser back to a listener of
// this process on the loopback interface, and the CLI forwards the code and state to the
// node's callback. The node answers the session to the CLI alone; no token travels in a URL.
type ssoSignIn struct {
	node *apiclient.Client
	wait time.Duration
	log  io.Writer // where the URL to open is printed (stderr)
	// open shows the URL in a browser; nil prints it only. Its failure is not the sign-in's:
	// the user can always open the printed URL themselves.
	open func(url string) error
}

// run signs in and returns the node's login answer.
func (s ssoSignIn) run(ctx context.Context) (apiclient.LoginAnswer, error) {
	var ans apiclient.LoginAnswer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ans, fmt.Errorf("listening on the loopback interface for the browser's return: %w", err)
	}
	defer ln.Close()
	redirect := "http://" + ln.Addr().String() + loopbackPath

	// The node's login answer sets the state cookie its callback wants back (login CSRF
	// protection), so both requests share a jar; neither redirect is followed: the first one
	// is for the browser, and the callback answers JSON.
	jar, err := cookiejar.New(nil)
	if err != nil {
		return ans, err
	}
	hc := &http.Client{Jar: jar, Timeout: s.node.HTTP.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	authURL, state, err := s.start(ctx, hc, redirect)
	if err != nil {
		return ans, err
	}
	fmt.Fprintf(s.log, "Open this address in a browser to sign in (waiting up to %s):\n\n  %s\n\n", s.wait, authURL)
	if s.open != nil {
		if err := s.open(authURL); err != nil {
			fmt.Fprintf(s.log, "(no browser opened: %v)\n", err)
		}
	}

	back := make(chan url.Values, 1)
	result := make(chan error, 1)
	srv := &http.Server{Handler: s.listener(state, back, result), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Shutdown lets the browser's request get its page before the process ends.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	wctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	var q url.Values
	select {
	case q = <-back:
	case <-wctx.Done():
		if errors.Is(wctx.Err(), context.DeadlineExceeded) {
			return ans, fmt.Errorf("the browser did not come back within %s; run soc login --sso again", s.wait)
		}
		return ans, wctx.Err()
	}
	err = s.finish(ctx, hc, q, &ans)
	result <- err
	return ans, err
}

// start asks the node to begin a sign-in returning to redirect; it answers the provider's
// authorization URL and the sign-in's state.
func (s ssoSignIn) start(ctx context.Context, hc *http.Client, redirect string) (string, string, error) {
	resp, err := s.get(ctx, hc, sso.LoginPath+"?redirect_uri="+url.QueryEscape(redirect))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusFound {
		// Not a redirect: the node explains (SSO not configured, the provider unreachable, …).
		return "", "", apiclient.Decode(resp, http.StatusFound, nil)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", "", fmt.Errorf("the node's sign-in redirect has no location: %w", err)
	}
	state := loc.Query().Get("state")
	if (loc.Scheme != "https" && loc.Scheme != "http") || state == "" {
		return "", "", fmt.Errorf("the node's sign-in redirect is not an authorization request: %s", loc.Redacted())
	}
	return loc.String(), state, nil
}

// listener serves the browser's return: the request carrying this sign-in's state is handed
// over once (on back), and its page waits for the outcome so the browser tells the user
// whether to go back to the terminal. Anything else (a stray request, a favicon, another
// sign-in's state) is refused without ending the wait.
func (s ssoSignIn) listener(state string, back chan<- url.Values, result <-chan error) http.Handler {
	var taken atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != loopbackPath || q.Get("state") != state {
			problem.Error(w, r, nil, problem.Invalid("state", "not the sign-in soc login is waiting for"))
			return
		}
		if !taken.CompareAndSwap(false, true) {
			problem.Error(w, r, nil, problem.Conflict("this sign-in was already handed to soc login; see the terminal"))
			return
		}
		back <- q
		select {
		case err := <-result:
			if err != nil {
				problem.Error(w, r, nil, problem.Unauthorized("soc: the sign-in failed: %v", err))
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8") // the outcome is shown, never interpreted
			fmt.Fprintln(w, "soc: signed in. You can close this window and go back to the terminal.")
		case <-r.Context().Done():
		}
	})
}

// finish forwards what the provider sent back (the code and state, or its refusal) to the
// node's callback, with the state cookie, and decodes the session it answers.
func (s ssoSignIn) finish(ctx context.Context, hc *http.Client, q url.Values, ans *apiclient.LoginAnswer) error {
	fwd := url.Values{}
	for _, k := range []string{"state", "code", "error"} {
		if v := q.Get(k); v != "" {
			fwd.Set(k, v)
		}
	}
	resp, err := s.get(ctx, hc, sso.CallbackPath+"?"+fwd.Encode())
	if err != nil {
		return err
	}
	return apiclient.Decode(resp, http.StatusOK, ans)
}

// get sends GET path to the node as the node's client does, but through hc (which keeps the
// state cookie and follows no redirect).
func (s ssoSignIn) get(ctx context.Context, hc *http.Client, path string) (*http.Response, error) {
	c := *s.node
	c.HTTP = hc
	return c.Request(ctx, http.MethodGet, path, nil, "")
}

// xdgOpen opens url in the desktop's browser when xdg-open is installed; a machine without
// one (a server, a container) just has the printed URL.
func xdgOpen(url string) error {
	path, err := exec.LookPath("xdg-open")
	if err != nil {
		return errors.New("xdg-open is not installed")
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reaped, never waited for: the browser may outlive soc
	return nil
}
