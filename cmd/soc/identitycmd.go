package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/cmd/soc/internal/envflag"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// clientFlags are the flags of every command that talks to a running node: --server, and the
// caller's credential from SOC_TOKEN or what `soc login` stored.
type clientFlags struct {
	server string
	output string
	envErr error
}

func (f *clientFlags) register(cmd *cobra.Command) {
	f.registerServer(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output: table or json")
}

// registerServer adds --server alone (SOC_SERVER).
func (f *clientFlags) registerServer(cmd *cobra.Command) {
	f.envErr = envflag.Bind(cmd.Flags(), func(fs *flag.FlagSet) {
		fs.StringVar(&f.server, "server", "http://localhost:8080", "URL of a soc node")
	}, nil)
}

// checkOutput reports a bad environment or --output with the error the command must exit with.
func (f *clientFlags) checkOutput(cmd *cobra.Command) error {
	if f.envErr != nil {
		return fail(cmd, 2, "%v", f.envErr)
	}
	if f.output != "table" && f.output != "json" {
		return fail(cmd, 2, "--output %q: want table or json", f.output)
	}
	return nil
}

// client returns an authenticated client, or the error the command must exit with.
func (f *clientFlags) client(cmd *cobra.Command) (*apiclient.Client, error) {
	if err := f.checkOutput(cmd); err != nil {
		return nil, err
	}
	store, err := apiclient.DefaultStore()
	if err != nil {
		return nil, fail(cmd, 1, "%v", err)
	}
	c, err := apiclient.Authenticated(cmd.Context(), f.server, store, time.Now())
	if err != nil {
		return nil, fail(cmd, 2, "%v", err)
	}
	return c, nil
}

// anonymous returns a client without a credential (signing in and out need none).
func (f *clientFlags) anonymous(cmd *cobra.Command) (*apiclient.Client, error) {
	if f.envErr != nil {
		return nil, fail(cmd, 2, "%v", f.envErr)
	}
	c, err := apiclient.New(f.server, "")
	if err != nil {
		return nil, fail(cmd, 2, "%v", err)
	}
	return c, nil
}

// apiFail reports a request's error with the exit status it calls for.
func apiFail(cmd *cobra.Command, err error) error {
	return fail(cmd, apiclient.ExitCode(err), "%v", err)
}

// call makes one request as the signed-in user (see client and apiclient.Client.Do): what it
// returns is the error the command must exit with.
func (f *clientFlags) call(cmd *cobra.Command, method, path string, body any, want int, out any) error {
	c, err := f.client(cmd)
	if err != nil {
		return err
	}
	if err := c.Do(cmd.Context(), method, path, body, want, out); err != nil {
		return apiFail(cmd, err)
	}
	return nil
}

// print writes v as JSON, or as a table of cols (header → field of each row) for -o table.
func (f *clientFlags) print(w io.Writer, v any, rows []map[string]any, cols ...string) {
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case []any:
		s := make([]string, len(x))
		for i := range x {
			s[i] = cell(x[i])
		}
		return strings.Join(s, ",")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// loginCmd signs in with a password, or through the node's identity provider (--sso), and
// stores the session's tokens (0600) for later commands.
func loginCmd() *cobra.Command {
	var f clientFlags
	var email string
	var passwordStdin, useSSO, noBrowser bool
	var ssoWait time.Duration
	cmd := &cobra.Command{
		Use:   "login",
		Short: "sign in to a soc node and store the session for the other commands",
		Long: `soc login asks for the password (or reads it from stdin with --password-stdin) and stores
the session's access and refresh tokens in <config dir>/soc/credentials.json (0600). Later
commands use them, refreshing the access token as needed; SOC_TOKEN, when set, wins.

soc login --sso signs in through the node's OpenID Connect provider instead: it prints the
address to open (and opens it with xdg-open when installed), waits on a loopback port
(127.0.0.1) for the browser to come back from the provider, and hands the result to the node.`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.Flags().StringVar(&email, "email", "", "the account's email (asked when not given)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.Flags().BoolVar(&useSSO, "sso", false, "sign in through the node's identity provider, in a browser")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "with --sso: only print the address to open")
	cmd.Flags().DurationVar(&ssoWait, "sso-timeout", defaultSSOWait, "with --sso: how long to wait for the browser to come back")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := f.anonymous(cmd)
		if err != nil {
			return err
		}
		if useSSO {
			if email != "" || passwordStdin {
				return fail(cmd, 2, "--sso signs in at the identity provider: --email and --password-stdin do not apply")
			}
			if ssoWait <= 0 {
				return fail(cmd, 2, "--sso-timeout %s: want a positive duration", ssoWait)
			}
			s := ssoSignIn{node: c, wait: ssoWait, log: cmd.ErrOrStderr(), open: xdgOpen}
			if noBrowser {
				s.open = nil
			}
			ans, err := s.run(cmd.Context())
			if err != nil {
				return apiFail(cmd, err)
			}
			return storeSession(cmd, c.Server(), ans)
		}
		in := bufio.NewReader(cmd.InOrStdin())
		if email == "" {
			fmt.Fprint(cmd.ErrOrStderr(), "Email: ")
			email = readLine(in)
		}
		password, err := readPassword(cmd, in, passwordStdin)
		if err != nil {
			return fail(cmd, 2, "%v", err)
		}
		var ans apiclient.LoginAnswer
		if err := c.Do(cmd.Context(), http.MethodPost, "/v1/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &ans); err != nil {
			return apiFail(cmd, err)
		}
		return storeSession(cmd, c.Server(), ans)
	}
	return cmd
}

func storeSession(cmd *cobra.Command, server string, ans apiclient.LoginAnswer) error {
	store, err := apiclient.DefaultStore()
	if err != nil {
		return fail(cmd, 1, "%v", err)
	}
	creds := ans.Credentials(time.Now())
	if err := store.Save(server, &creds); err != nil {
		return fail(cmd, 1, "storing the session: %v", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "signed in to %s (session %s); credentials in %s\n", server, ans.SessionID, store.Path)
	return nil
}

func readLine(r *bufio.Reader) string {
	s, _ := r.ReadString('\n')
	return strings.TrimRight(s, "\r\n")
}

// readPassword reads without echo from a terminal, else one line of stdin (--password-stdin).
func readPassword(cmd *cobra.Command, in *bufio.Reader, fromStdin bool) (string, error) {
	if !fromStdin {
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return "", fmt.Errorf("stdin is not a terminal: pass --password-stdin to read the password from it")
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	p := readLine(in)
	if p == "" {
		return "", fmt.Errorf("no password on stdin")
	}
	return p, nil
}

// logoutCmd ends the stored session on the server and forgets it.
func logoutCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{Use: "logout", Short: "end the stored session and forget it", Args: cobra.NoArgs}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := f.anonymous(cmd)
		if err != nil {
			return err
		}
		store, err := apiclient.DefaultStore()
		if err != nil {
			return fail(cmd, 1, "%v", err)
		}
		creds, ok, err := store.Load(c.Server())
		if err != nil || !ok {
			return fail(cmd, 1, "no stored session for %s", c.Server())
		}
		err = c.Do(cmd.Context(), http.MethodPost, "/v1/auth/logout", map[string]string{"refresh_token": creds.RefreshToken}, http.StatusNoContent, nil)
		if ferr := store.Save(c.Server(), nil); ferr != nil {
			return fail(cmd, 1, "%v", ferr)
		}
		if err != nil {
			return apiFail(cmd, err)
		}
		return nil
	}
	return cmd
}

// userRow is a user as the identity API lists it.
type userRow = map[string]any

// findUser resolves an id or an email to the user's id.
func findUser(ctx context.Context, c *apiclient.Client, who string) (string, error) {
	if !strings.Contains(who, "@") {
		return who, nil
	}
	var page struct {
		Items []userRow `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/users?email="+url.QueryEscape(who), nil, http.StatusOK, &page); err != nil {
		return "", err
	}
	for _, u := range page.Items {
		if e, _ := u["email"].(string); strings.EqualFold(e, who) {
			id, _ := u["id"].(string)
			return id, nil
		}
	}
	return "", fmt.Errorf("no user with email %s", who)
}
