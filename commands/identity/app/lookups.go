package app

import (
	"strings"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/schemas/contracts"
)

// The lookups below are for other contexts' adapters in the same process (the notifier's
// People and PreferenceSource): plain values from the directory, no permission check (the
// callers are the platform's own workers, not requests).

// Person is the user with that id or email (case-insensitively); false when none.
func (s *Service) Person(idOrEmail string) (UserView, bool) {
	var v UserView
	found := false
	s.read(func(d *directory) {
		id := idOrEmail
		if strings.Contains(idOrEmail, "@") {
			id = d.byEmail[domain.NormalizeEmail(idOrEmail)]
		}
		if u := d.st.Users[id]; u != nil {
			v, found = d.view(u), true
		}
	})
	return v, found
}

// TeamNamed is the team of that name (names are not unique: the first created, team ids being
// time-ordered UUIDv7s); false when none.
func (s *Service) TeamNamed(name string) (TeamView, bool) {
	var v TeamView
	s.read(func(d *directory) {
		if t := d.teamNamed(name); t != nil {
			v = teamView(t)
		}
	})
	return v, v.ID != ""
}

// PreferencesOf are the user's notification preferences; false when the user is unknown or
// has set none.
func (s *Service) PreferencesOf(user string) (contracts.NotificationPreferencesSet, bool) {
	var p contracts.NotificationPreferencesSet
	set := false
	s.read(func(d *directory) {
		if u := d.st.Users[user]; u != nil && u.Preferences.Channels != nil {
			p, set = u.Preferences, true
		}
	})
	return p, set
}
