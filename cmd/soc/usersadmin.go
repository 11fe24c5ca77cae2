package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	identityapp "github.com/socplatform/soc/commands/identity/app"
	identityports "github.com/socplatform/soc/commands/identity/ports"
	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
	"github.com/spf13/cobra"
)

// The commands that work on the data directory itself (the embedded default, or the PostgreSQL
// store with --postgres-url), for a first set-up and for recovery: no node needs to run, and
// nobody needs to be signed in yet.

// openIdentity loads the identity context on store for an offline command. It issues no access
// token: it has no keyring.
func openIdentity(ctx context.Context, store *events.Guarded) (*identityapp.Service, error) {
	svc := identityapp.New(identityDeps(store, nil), identityapp.DefaultConfig())
	return svc, svc.Load(ctx)
}

// identityMux serves the identity routes without a network and without the access middleware:
// its callers put the principal in the request themselves (clientAs), so that an offline
// command says what it does exactly as it would to a node.
func identityMux(svc *identityapp.Service) (http.Handler, error) {
	mux := http.NewServeMux()
	if err := identityports.Register(mux, svc, identityports.Config{Schemas: schemas.CommandsFS()}); err != nil {
		return nil, err
	}
	return mux, nil
}

// clientAs is an API client of mux acting as p.
func clientAs(mux http.Handler, p access.Principal) (*apiclient.Client, error) {
	c, err := apiclient.New("http://in-process", "")
	if err != nil {
		return nil, err
	}
	c.HTTP = &http.Client{Transport: inProcess{mux: mux, p: p}}
	return c, nil
}

// inProcess serves a request with mux, as principal p, without a network.
type inProcess struct {
	mux http.Handler
	p   access.Principal
}

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.mux.ServeHTTP(rec, r.WithContext(access.With(r.Context(), t.p)))
	return rec.Result(), nil
}

// userCreateAdminCmd creates the first admin on a store without users.
func userCreateAdminCmd() *cobra.Command {
	var email string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "create-admin",
		Short: "create the first admin directly in the data directory (only while no user exists); prints a one-time password",
		Args:  cobra.NoArgs,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().StringVar(&email, "email", "", "the admin's email (required)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input instead of generating one")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if email == "" {
			return fail(cmd, 2, "--email is required")
		}
		password := ""
		if fromStdin {
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fail(cmd, 1, "reading the password: %v", err)
			}
			if password = strings.TrimRight(line, "\r\n"); password == "" {
				return fail(cmd, 2, "--password-stdin: no password on standard input")
			}
		}
		return withStore(cmd, cfg, func(ctx context.Context, store *events.Guarded) error {
			svc, err := openIdentity(ctx, store)
			if err != nil {
				return fail(cmd, 1, "%v", err)
			}
			id, generated, err := svc.BootstrapAdmin(ctx, email, password)
			if errors.Is(err, identityapp.ErrUsersExist) {
				return fail(cmd, 1, "%v (an admin creates the others: soc users create)", err)
			}
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "admin %s created (%s)\n", email, id)
			if generated != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "one-time password (shown only now; sign in with soc login and keep it in a password manager):")
				fmt.Fprintln(cmd.OutOrStdout(), generated)
			}
			return nil
		})
	}
	return cmd
}

// usersImportCmd loads a --notify-directory file into the identity context: its people become
// users, its teams teams (leads and members kept), and, with --data, each person's channels
// their notification preferences.
func usersImportCmd() *cobra.Command {
	f := identityFlags{as: "users-import"}
	var roles []string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "create the users and teams of a notification directory file (--notify-directory's format), over --server or directly in --data DIR",
		Long: `Creates the users and teams of a notification directory file, so a set-up that named its people
in SOC_NOTIFY_DIRECTORY moves to the identity context in one command. Users are created
without a password: each gets a one-time password, printed once. People without an email are
skipped (identity signs in by email). Run again, it skips who exists already.

With --data DIR (or --postgres-url) it works on the store directly and also sets each person's
channels as their notification preferences; with --server it goes through the API (needs
users:admin) and leaves preferences to each user (PUT /v1/me/preferences).

The file's per-person "lead" has no counterpart: escalations go to the lead of the person's
team. Its "fallback" neither: what nobody owns goes to the admins.`,
		Args: cobra.ExactArgs(1),
	}
	f.register(cmd)
	cmd.Flags().StringSliceVar(&roles, "role", nil, "role every imported user gets (repeatable); default: none (they are notified, and see nothing until granted a role)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		dir, err := notifyapp.LoadDirectory(args[0])
		if err != nil {
			return fail(cmd, 2, "%v", err)
		}
		return f.run(cmd, func(c identityTarget) error {
			return importDirectory(cmd, c.Client, c.asUser, dir, roles)
		})
	}
	return cmd
}

// importDirectory creates dir's people and teams through c; asUser, when set, is a client
// acting as a user (their preferences are theirs to set).
func importDirectory(cmd *cobra.Command, c *apiclient.Client, asUser func(id string) (*apiclient.Client, error), dir *notifyapp.Directory, roles []string) error {
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ids := map[string]string{} // the file's user id → the platform's
	for _, u := range dir.Users {
		if u.Email == "" {
			fmt.Fprintf(errOut, "skipped %s: no email\n", u.ID)
			continue
		}
		id, err := findUser(ctx, c, u.Email)
		if err == nil {
			ids[u.ID] = id
			fmt.Fprintf(errOut, "%s exists already (%s)\n", u.Email, id)
			continue
		}
		if pe := (*apiclient.ProblemError)(nil); errors.As(err, &pe) {
			return apiFail(cmd, err)
		}
		var created struct {
			ID              string `json:"id"`
			OneTimePassword string `json:"one_time_password"`
		}
		body := withoutEmpty(map[string]any{"email": u.Email, "display_name": u.Name, "phone": u.Phone, "time_zone": u.TimeZone, "roles": roles})
		if err := c.Do(ctx, http.MethodPost, "/v1/users", body, http.StatusCreated, &created); err != nil {
			return apiFail(cmd, fmt.Errorf("%s: %w", u.Email, err))
		}
		ids[u.ID] = created.ID
		fmt.Fprintf(out, "%s\t%s\t%s\n", created.ID, u.Email, created.OneTimePassword)
		if asUser != nil && len(u.Channels) > 0 {
			if err := importChannels(ctx, asUser, created.ID, u); err != nil {
				return apiFail(cmd, fmt.Errorf("%s's channels: %w", u.Email, err))
			}
		}
		if u.Lead != "" {
			fmt.Fprintf(errOut, "%s: the lead %s is not kept per person: escalations go to the lead of their team\n", u.Email, u.Lead)
		}
	}
	var teams struct {
		Items []struct {
			ID      string   `json:"id"`
			Name    string   `json:"name"`
			Members []string `json:"members"`
		} `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/teams", nil, http.StatusOK, &teams); err != nil {
		return apiFail(cmd, err)
	}
	for _, t := range dir.Teams {
		teamID, members := "", []string(nil)
		for _, have := range teams.Items {
			if have.Name == t.Name {
				teamID, members = have.ID, have.Members
				break
			}
		}
		if teamID == "" {
			var created struct {
				ID      string   `json:"id"`
				Members []string `json:"members"`
			}
			if err := c.Do(ctx, http.MethodPost, "/v1/teams", withoutEmpty(map[string]any{"name": t.Name, "lead": ids[t.Lead]}), http.StatusCreated, &created); err != nil {
				return apiFail(cmd, fmt.Errorf("team %s: %w", t.Name, err))
			}
			teamID, members = created.ID, created.Members
			fmt.Fprintf(errOut, "team %s created (%s)\n", t.Name, teamID)
		}
		for _, m := range t.Members {
			id, ok := ids[m]
			if !ok || slices.Contains(members, id) {
				continue
			}
			if err := c.Do(ctx, http.MethodPost, "/v1/teams/"+url.PathEscape(teamID)+"/members", map[string]any{"user_id": id}, http.StatusOK, nil); err != nil {
				return apiFail(cmd, fmt.Errorf("team %s, member %s: %w", t.Name, m, err))
			}
		}
	}
	if len(dir.Fallback) > 0 {
		fmt.Fprintln(errOut, "the file's fallback is not kept: what nobody owns goes to the admins")
	}
	return nil
}

// importChannels sets u's channels as their notification preferences, acting as them.
func importChannels(ctx context.Context, asUser func(id string) (*apiclient.Client, error), id string, u notifyapp.User) error {
	c, err := asUser(id)
	if err != nil {
		return err
	}
	var chans []string
	for _, ch := range u.Channels {
		switch ch {
		case channels.ChannelEmail, channels.ChannelSMS:
			chans = append(chans, ch)
		case notifyapp.ChannelWebSocket:
			chans = append(chans, "inapp")
		}
	}
	return c.Do(ctx, http.MethodPut, "/v1/me/preferences", withoutEmpty(map[string]any{"channels": chans, "phone": u.Phone}), http.StatusOK, nil)
}
