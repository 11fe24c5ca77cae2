package app

import (
	"context"
	"slices"

	"github.com/socplatform/soc/commands/notifications/channels"
)

// People is who the planner notifies: the port it reads recipients, leads and teams through.
// Two adapters implement it: the JSON Directory (--notify-directory, the format `soc users
// import` loads) and the identity context's read state. Plain values only, so an adapter needs
// nothing of this package but these types. A person's preferences come through PreferenceSource.
type People interface {
	// Person returns the user with that id, or whose e-mail address is that (findings often
	// record owners as addresses); false when unknown.
	Person(ctx context.Context, idOrEmail string) (Person, bool, error)
	// Team returns the team of that name; false when unknown.
	Team(ctx context.Context, name string) (Group, bool, error)
	// Fallback lists the user ids told about what nobody owns.
	Fallback(ctx context.Context) ([]string, error)
}

// Person is one user as notifications address them.
type Person struct {
	ID, Name, Email string
	Phone           string // E.164
	// TimeZone is the IANA zone of the person (empty: UTC), for the identity adapter to fill.
	TimeZone string
	Lead     string // user id SLA breaches escalate to
	// Channels the person is reached on, among email, sms and websocket; empty: email (when an
	// address is set) and websocket.
	Channels []string
}

// Group is a team: its members and lead (user ids).
type Group struct {
	Name    string
	Members []string
	Lead    string
}

// Recipient is the channels' view of a person.
func (p Person) Recipient() channels.Recipient {
	return channels.Recipient{UserID: p.ID, Name: p.Name, Email: p.Email, Phone: p.Phone}
}

// channelsOf lists the personal channels p is reached on.
func (p Person) channelsOf() []string { return defaultChannels(p.Channels, p.Email) }

// defaultChannels is chs, or when empty the default: email (when there is an address) and the
// WebSocket push. SMS costs money per message: only when listed.
func defaultChannels(chs []string, email string) []string {
	if len(chs) > 0 {
		return chs
	}
	if email != "" {
		return []string{channels.ChannelEmail, ChannelWebSocket}
	}
	return []string{ChannelWebSocket}
}

// ownersOf returns who is told about a finding: its owner when known, else the members of its
// asset's owner team, else the fallback users.
func ownersOf(ctx context.Context, pp People, owner, team string) ([]Person, error) {
	if p, ok, err := person(ctx, pp, owner); err != nil || ok {
		return []Person{p}, err
	}
	t, ok, err := group(ctx, pp, team)
	if err != nil {
		return nil, err
	}
	if ok && len(t.Members) > 0 {
		return listOf(ctx, pp, t.Members)
	}
	return fallbackOf(ctx, pp)
}

// leadsOf returns who an SLA breach escalates to: the owner's lead, else the asset team's lead,
// else the fallback users.
func leadsOf(ctx context.Context, pp People, owner, team string) ([]Person, error) {
	if p, ok, err := person(ctx, pp, owner); err != nil {
		return nil, err
	} else if ok && p.Lead != "" {
		return listOf(ctx, pp, []string{p.Lead})
	}
	t, ok, err := group(ctx, pp, team)
	if err != nil {
		return nil, err
	}
	if ok && t.Lead != "" {
		return listOf(ctx, pp, []string{t.Lead})
	}
	return fallbackOf(ctx, pp)
}

func person(ctx context.Context, pp People, idOrEmail string) (Person, bool, error) {
	if idOrEmail == "" {
		return Person{}, false, nil
	}
	return pp.Person(ctx, idOrEmail)
}

func group(ctx context.Context, pp People, name string) (Group, bool, error) {
	if name == "" {
		return Group{}, false, nil
	}
	return pp.Team(ctx, name)
}

func fallbackOf(ctx context.Context, pp People) ([]Person, error) {
	ids, err := pp.Fallback(ctx)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, pp, ids)
}

// listOf resolves user ids, once each, leaving out unknown ones.
func listOf(ctx context.Context, pp People, ids []string) ([]Person, error) {
	out := make([]Person, 0, len(ids))
	for _, id := range ids {
		p, ok, err := pp.Person(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok && !slices.ContainsFunc(out, func(q Person) bool { return q.ID == p.ID }) {
			out = append(out, p)
		}
	}
	return out, nil
}
