package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Credentials are what `soc login` keeps for one server: the session's access and refresh
// tokens. The file holding them is readable by its owner only (0600, in a 0700 directory).
type Credentials struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expires      time.Time `json:"expires"`
}

// LoginAnswer is the identity API's answer to a login or a refresh.
type LoginAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	SessionID    string `json:"session_id"`
}

// Credentials turns a login answer received at now into what is stored.
func (a LoginAnswer) Credentials(now time.Time) Credentials {
	return Credentials{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken,
		Expires: now.Add(time.Duration(a.ExpiresIn) * time.Second)}
}

// Store is the credentials file: one entry per server URL.
type Store struct{ Path string }

// DefaultStore is <user config dir>/soc/credentials.json, or $SOC_CONFIG_DIR/credentials.json.
func DefaultStore() (Store, error) {
	dir := os.Getenv("SOC_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return Store{}, fmt.Errorf("no config directory for the credentials (set SOC_CONFIG_DIR): %w", err)
		}
		dir = filepath.Join(base, "soc")
	}
	return Store{Path: filepath.Join(dir, "credentials.json")}, nil
}

func (s Store) read() (map[string]Credentials, error) {
	all := map[string]Credentials{}
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return all, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s is not a credentials file: %w", s.Path, err)
	}
	return all, nil
}

// Load returns the credentials kept for server (false when none).
func (s Store) Load(server string) (Credentials, bool, error) {
	all, err := s.read()
	if err != nil {
		return Credentials{}, false, err
	}
	c, ok := all[server]
	return c, ok, nil
}

// Save keeps c for server (nil c forgets it), atomically and owner-only.
func (s Store) Save(server string, c *Credentials) error {
	all, err := s.read()
	if err != nil {
		return err
	}
	if c == nil {
		delete(all, server)
	} else {
		all[server] = *c
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.Path), ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.Path)
}

// Authenticated returns a client of server carrying the caller's credential: SOC_TOKEN when
// set (an API token or an access token), else the credentials `soc login` stored, refreshed
// when the access token has expired (the rotated refresh token is stored at once: the old one
// is dead). No credential at all gives a client without one: the server answers 401.
func Authenticated(ctx context.Context, server string, store Store, now time.Time) (*Client, error) {
	c, err := New(server, os.Getenv("SOC_TOKEN"))
	if err != nil || c.Token != "" {
		return c, err
	}
	creds, ok, err := store.Load(c.Server())
	if err != nil || !ok {
		return c, err
	}
	if now.Before(creds.Expires.Add(-30*time.Second)) || creds.RefreshToken == "" {
		c.Token = creds.AccessToken
		return c, nil
	}
	var ans LoginAnswer
	if err := c.Do(ctx, http.MethodPost, "/v1/auth/refresh", map[string]string{"refresh_token": creds.RefreshToken}, http.StatusOK, &ans); err != nil {
		var p *ProblemError
		if errors.As(err, &p) && p.Status == http.StatusUnauthorized {
			_ = store.Save(c.Server(), nil) // the session is over: forget it
			return nil, fmt.Errorf("the stored session has ended (%s): sign in again with `soc login`", p.Detail)
		}
		return nil, fmt.Errorf("refreshing the stored session: %w", err)
	}
	fresh := ans.Credentials(now)
	if err := store.Save(c.Server(), &fresh); err != nil {
		return nil, err
	}
	c.Token = fresh.AccessToken
	return c, nil
}
