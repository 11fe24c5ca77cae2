package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
)

// ChannelWebSocket pushes a notification to the recipient's open WebSocket sessions.
const ChannelWebSocket = "websocket"

// personalChannels reach one person; the others (Slack, Teams, the generic webhook) post to
// one destination for the whole organisation, so they get one message per trigger, not one per
// recipient.
var personalChannels = []string{channels.ChannelEmail, channels.ChannelSMS, ChannelWebSocket}

// SharedChannel reports whether ch posts to one organisation-wide destination.
func SharedChannel(ch string) bool {
	return ch == channels.ChannelSlack || ch == channels.ChannelTeams || ch == channels.ChannelWebhook
}

// Directory says who is notified: people (how to reach them, their lead, their preferences)
// and teams (members and lead). Until the platform has its own identity store it is loaded from a
// JSON file (SOC_NOTIFY_DIRECTORY); findings name an owner (a user id or e-mail address) and
// assets an owner team.
type Directory struct {
	Users []User `json:"users"`
	Teams []Team `json:"teams,omitempty"`
	// Fallback are user ids notified about findings nobody owns (no owner, no known team).
	Fallback []string `json:"fallback,omitempty"`

	users map[string]*User
	teams map[string]*Team
}

// User is one person.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"` // E.164
	// TimeZone is the person's IANA time zone (empty: UTC).
	TimeZone string `json:"time_zone,omitempty"`
	Lead     string `json:"lead,omitempty"` // user id of the person SLA breaches escalate to
	// Channels this person is reached on, among email, sms and websocket. Default: email (when
	// an address is set) and websocket. SMS costs money per message: only when listed.
	Channels    []string            `json:"channels,omitempty"`
	Preferences *domain.Preferences `json:"preferences,omitempty"`
	// WSTokenSHA256 is the hex SHA-256 of the token this person's WebSocket sessions present
	// (Authorization: Bearer …) to receive notifications; the token itself is never stored.
	WSTokenSHA256 string `json:"ws_token_sha256,omitempty"`
}

// Team is an owner team of assets.
type Team struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Lead    string   `json:"lead,omitempty"`
}

var (
	userIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)
	phoneRe  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	hexSHA   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// LoadDirectory reads and validates a directory file. An empty path is an empty directory.
func LoadDirectory(path string) (*Directory, error) {
	if path == "" {
		return NewDirectory(Directory{})
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SOC_NOTIFY_DIRECTORY: %w", err)
	}
	if len(b) > 16<<20 {
		return nil, fmt.Errorf("SOC_NOTIFY_DIRECTORY: %s is larger than 16 MiB", path)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Directory
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("SOC_NOTIFY_DIRECTORY: %s: %w", path, err)
	}
	dir, err := NewDirectory(d)
	if err != nil {
		return nil, fmt.Errorf("SOC_NOTIFY_DIRECTORY: %s: %w", path, err)
	}
	return dir, nil
}

// NewDirectory validates d (every problem at once) and indexes it.
func NewDirectory(d Directory) (*Directory, error) {
	var errs []error
	d.users, d.teams = map[string]*User{}, map[string]*Team{}
	tokens := map[string]bool{}
	for i := range d.Users {
		u := &d.Users[i]
		at := fmt.Sprintf("users[%d]", i)
		if !userIDRe.MatchString(u.ID) {
			errs = append(errs, fmt.Errorf("%s.id %q: want 1-128 of [A-Za-z0-9._@+-]", at, u.ID))
		} else if d.users[u.ID] != nil {
			errs = append(errs, fmt.Errorf("%s.id %q: listed twice", at, u.ID))
		}
		if u.Email != "" {
			if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
				errs = append(errs, fmt.Errorf("%s.email %q: not a bare address", at, u.Email))
			}
		}
		if u.TimeZone != "" {
			if _, err := time.LoadLocation(u.TimeZone); err != nil {
				errs = append(errs, fmt.Errorf("%s.time_zone %q: not an IANA time zone", at, u.TimeZone))
			}
		}
		if u.Phone != "" && !phoneRe.MatchString(u.Phone) {
			errs = append(errs, fmt.Errorf("%s.phone %q: want E.164 such as +14155550100", at, u.Phone))
		}
		for _, ch := range u.Channels {
			if !slices.Contains(personalChannels, ch) {
				errs = append(errs, fmt.Errorf("%s.channels: %q is not one of %s", at, ch, strings.Join(personalChannels, ", ")))
			}
		}
		if slices.Contains(u.Channels, channels.ChannelSMS) && u.Phone == "" {
			errs = append(errs, fmt.Errorf("%s.channels: sms needs a phone", at))
		}
		if u.WSTokenSHA256 != "" && !hexSHA.MatchString(u.WSTokenSHA256) {
			errs = append(errs, fmt.Errorf("%s.ws_token_sha256: want 64 lower-case hex digits", at))
		} else if u.WSTokenSHA256 != "" && tokens[u.WSTokenSHA256] {
			errs = append(errs, fmt.Errorf("%s.ws_token_sha256: another user has the same token", at))
		}
		tokens[u.WSTokenSHA256] = true
		if u.Preferences != nil {
			u.Preferences.UserID = u.ID
			if err := u.Preferences.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s.preferences: %w", at, err))
			}
		}
		d.users[u.ID] = u
	}
	for i := range d.Teams {
		t := &d.Teams[i]
		at := fmt.Sprintf("teams[%d]", i)
		if strings.TrimSpace(t.Name) == "" {
			errs = append(errs, fmt.Errorf("%s.name: required", at))
		} else if d.teams[t.Name] != nil {
			errs = append(errs, fmt.Errorf("%s.name %q: listed twice", at, t.Name))
		}
		d.teams[t.Name] = t
	}
	known := func(where, id string) {
		if d.users[id] == nil {
			errs = append(errs, fmt.Errorf("%s: unknown user %q", where, id))
		}
	}
	for i, u := range d.Users {
		if u.Lead != "" {
			known(fmt.Sprintf("users[%d].lead", i), u.Lead)
		}
	}
	for i, t := range d.Teams {
		for _, m := range t.Members {
			known(fmt.Sprintf("teams[%d].members", i), m)
		}
		if t.Lead != "" {
			known(fmt.Sprintf("teams[%d].lead", i), t.Lead)
		}
	}
	for _, f := range d.Fallback {
		known("fallback", f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &d, nil
}

// User returns the user with that id, or whose e-mail address is that (owners are often
// recorded as addresses); nil when unknown.
func (d *Directory) User(idOrEmail string) *User {
	if u := d.users[idOrEmail]; u != nil {
		return u
	}
	for i := range d.Users {
		if d.Users[i].Email != "" && strings.EqualFold(d.Users[i].Email, idOrEmail) {
			return &d.Users[i]
		}
	}
	return nil
}

// People is the directory as the planner's port. (A method of its own would clash with the
// file's field Fallback.)
func (d *Directory) People() People { return directoryPeople{d} }

type directoryPeople struct{ d *Directory }

func (p directoryPeople) Person(_ context.Context, idOrEmail string) (Person, bool, error) {
	u := p.d.User(idOrEmail)
	if u == nil {
		return Person{}, false, nil
	}
	return Person{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, TimeZone: u.TimeZone, Lead: u.Lead,
		Channels: slices.Clone(u.Channels)}, true, nil
}

func (p directoryPeople) Team(_ context.Context, name string) (Group, bool, error) {
	t := p.d.teams[name]
	if t == nil {
		return Group{}, false, nil
	}
	return Group{Name: t.Name, Members: slices.Clone(t.Members), Lead: t.Lead}, true, nil
}

func (p directoryPeople) Fallback(context.Context) ([]string, error) {
	return slices.Clone(p.d.Fallback), nil
}

// UserByToken returns the user whose WebSocket token is token (constant-time comparison of the
// SHA-256), or nil.
func (d *Directory) UserByToken(token string) *User {
	if token == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	var found *User
	for i := range d.Users {
		want, err := hex.DecodeString(d.Users[i].WSTokenSHA256)
		if err != nil || len(want) != len(sum) {
			continue
		}
		if subtle.ConstantTimeCompare(want, sum[:]) == 1 {
			found = &d.Users[i]
		}
	}
	return found
}

// Preferences implements PreferenceSource from the directory.
func (d *Directory) Preferences(_ context.Context, userID string) (domain.Preferences, error) {
	if u := d.users[userID]; u != nil && u.Preferences != nil {
		return *u.Preferences, nil
	}
	return domain.Preferences{UserID: userID}, nil
}
