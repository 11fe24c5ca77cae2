package main

import (
	"context"
	"slices"
	"strings"
	"time"

	identityapp "github.com/socplatform/soc/commands/identity/app"
	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
	notifydomain "github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// recipients is who notifications reach and how they want it: the identity context's users,
// teams and preferences, or, with --notify-directory, that file (the set-ups that predate
// identity; `soc users import` moves them over).
type recipients struct {
	people notifyapp.People
	prefs  notifyapp.PreferenceSource
	dir    *notifyapp.Directory // the file's; empty without --notify-directory
}

// recipientsOf picks the source: the directory file when one is configured, else identity.
func recipientsOf(a *app, dir *notifyapp.Directory, id *identityNode) recipients {
	if a.cfg.NotifyDirectory != "" || id == nil {
		return recipients{people: dir.People(), prefs: dir, dir: dir}
	}
	return recipients{people: identityPeople{id.svc}, prefs: identityPreferences{id.svc}, dir: dir}
}

// identityDirectory is what the adapters read of the identity app: plain lookups, no
// permission check (the callers are the platform's own workers).
type identityDirectory interface {
	Person(idOrEmail string) (identityapp.UserView, bool)
	TeamNamed(name string) (identityapp.TeamView, bool)
	Teams(caller access.Principal) ([]identityapp.TeamView, error)
	Users(caller access.Principal, email string) ([]identityapp.UserView, error)
	PreferencesOf(user string) (contracts.NotificationPreferencesSet, bool)
}

// notifierPrincipal is the notifier reading the directory: it may read users and teams.
func notifierPrincipal() access.Principal {
	p := access.System("notifier")
	p.Perms = []access.Permission{access.UsersRead}
	return p
}

// identityPeople implements notifyapp.People over the identity context.
type identityPeople struct{ id identityDirectory }

// Person is an active user with their phone (the one in their preferences first), the channels
// their preferences enable, and as lead the lead of the first of their teams led by someone
// else: SLA breaches escalate there. A disabled user is nobody to notify.
func (p identityPeople) Person(_ context.Context, idOrEmail string) (notifyapp.Person, bool, error) {
	u, ok := p.id.Person(idOrEmail)
	if !ok || u.Status != "active" {
		return notifyapp.Person{}, false, nil
	}
	out := notifyapp.Person{ID: u.ID, Name: u.DisplayName, Email: u.Email, Phone: u.Phone, TimeZone: u.TimeZone}
	if prefs, ok := p.id.PreferencesOf(u.ID); ok {
		if prefs.Phone != "" {
			out.Phone = prefs.Phone
		}
		for _, ch := range prefs.Channels {
			if name, personal := personalChannel(ch); personal {
				out.Channels = append(out.Channels, name)
			}
		}
	}
	teams, err := p.id.Teams(notifierPrincipal())
	if err != nil {
		return notifyapp.Person{}, false, err
	}
	slices.SortFunc(teams, func(a, b identityapp.TeamView) int { return strings.Compare(a.Name, b.Name) })
	for _, t := range teams {
		if t.Lead != "" && t.Lead != u.ID && slices.Contains(t.Members, u.ID) {
			out.Lead = t.Lead
			break
		}
	}
	return out, true, nil
}

// personalChannel names a preference's channel as the notifier does; false for the shared
// channels (Slack, Teams, the webhook post to one destination for everybody).
func personalChannel(ch contracts.PreferenceChannel) (string, bool) {
	switch ch {
	case contracts.PreferenceChannelEmail:
		return channels.ChannelEmail, true
	case contracts.PreferenceChannelSMS:
		return channels.ChannelSMS, true
	case contracts.PreferenceChannelInapp:
		return notifyapp.ChannelWebSocket, true
	}
	return "", false
}

func (p identityPeople) Team(_ context.Context, name string) (notifyapp.Group, bool, error) {
	t, ok := p.id.TeamNamed(name)
	if !ok {
		return notifyapp.Group{}, false, nil
	}
	return notifyapp.Group{Name: t.Name, Members: t.Members, Lead: t.Lead}, true, nil
}

// Fallback is the active admins: what nobody owns is theirs to hand out.
func (p identityPeople) Fallback(context.Context) ([]string, error) {
	users, err := p.id.Users(notifierPrincipal(), "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		if u.Status == "active" && slices.Contains(u.Roles, access.RoleAdmin) {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// digestInterval is how often a user who asked for a digest gets it ("one daily digest").
const digestInterval = 24 * time.Hour

// identityPreferences implements notifyapp.PreferenceSource from the preferences users set
// through PUT /v1/me/preferences: the channels they chose become the allowlist, their quiet
// hours are in their time zone, and a digest collects everything below critical on their
// personal channels once a day.
type identityPreferences struct{ id identityDirectory }

func (p identityPreferences) Preferences(_ context.Context, userID string) (notifydomain.Preferences, error) {
	out := notifydomain.Preferences{UserID: userID}
	set, ok := p.id.PreferencesOf(userID)
	if !ok {
		return out, nil
	}
	var personal []string
	for _, ch := range set.Channels {
		name, isPersonal := personalChannel(ch)
		if !isPersonal {
			name = string(ch)
		} else {
			personal = append(personal, name)
		}
		out.Rules = append(out.Rules, notifydomain.Rule{Channel: name})
	}
	if len(set.Channels) == 0 { // nothing chosen: nothing delivered
		out.Rules = []notifydomain.Rule{{Off: true}}
	}
	if q := set.QuietHours; q != nil {
		tz := ""
		if u, ok := p.id.Person(userID); ok {
			tz = u.TimeZone
		}
		out.QuietHours = &notifydomain.QuietHours{Start: q.Start, End: q.End, TimeZone: tz, BypassSeverity: "critical"}
	}
	if set.Digest != nil && *set.Digest {
		out.Digest = map[string]notifydomain.DigestMode{}
		for _, ch := range personal {
			out.Digest[ch] = notifydomain.DigestMode{Interval: digestInterval, ImmediateSeverity: "critical"}
		}
	}
	return out, nil
}
