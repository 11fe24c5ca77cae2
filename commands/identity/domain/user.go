package domain

import (
	"cmp"
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// UserStatus is whether a user may sign in.
type UserStatus string

const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// User is a person: their profile, password hash, roles, status and notification preferences.
type User struct {
	ID           string
	Email        string // lower-cased
	DisplayName  string
	Phone        string
	TimeZone     string
	PasswordHash string // argon2id PHC string; empty for SSO-only users
	Source       contracts.UserSource
	SSOIssuer    string
	SSOSubject   string
	Status       UserStatus
	Roles        []string // sorted
	Preferences  contracts.NotificationPreferencesSet
	Version      int64
}

// NormalizeEmail is the form an email is stored and compared in: emails are unique
// case-insensitively, so "Ann@Example.org" and "ann@example.org" are one user.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// IsUserID reports whether id is a user's stream id.
func IsUserID(id string) bool {
	return strings.HasPrefix(id, "identity-user-") && events.ValidStreamID(id)
}

// Exists reports whether the user was registered.
func (u *User) Exists() bool { return u.ID != "" }

// Active reports whether the user may sign in.
func (u *User) Active() bool { return u.Exists() && u.Status == UserActive }

// HasRole reports whether the user holds role.
func (u *User) HasRole(role string) bool { return slices.Contains(u.Roles, role) }

// Registration is what registering a user needs; PasswordHash is a PHC string (or empty).
type Registration struct {
	Email, DisplayName, Phone, TimeZone string
	PasswordHash                        string
	Source                              contracts.UserSource
	SSOIssuer, SSOSubject               string
	Roles                               []string
}

// Register creates the user with its roles (RoleGranted each). Roles must have been checked to
// exist by the caller (custom roles are other aggregates).
func (u *User) Register(r Registration) ([]es.Change, error) {
	if u.Exists() {
		return nil, &ExistsError{What: "user", ID: u.ID}
	}
	email := NormalizeEmail(r.Email)
	if !strings.Contains(email, "@") {
		return nil, rule("/email", "%q is not an email address", r.Email)
	}
	if strings.TrimSpace(r.DisplayName) == "" {
		return nil, rule("/display_name", "a display name is required")
	}
	if r.Source == contracts.UserSourceSso && (r.SSOIssuer == "" || r.SSOSubject == "") {
		return nil, rule("/sso_subject", "an SSO user needs its issuer and subject")
	}
	changes := []es.Change{{Type: contracts.TypeUserRegistered, Data: contracts.UserRegistered{
		Email: email, DisplayName: r.DisplayName, Phone: r.Phone, TimeZone: r.TimeZone, PasswordHash: r.PasswordHash,
		Source: r.Source, SsoIssuer: r.SSOIssuer, SsoSubject: r.SSOSubject}}}
	for _, role := range uniqueSorted(r.Roles) {
		changes = append(changes, es.Change{Type: contracts.TypeRoleGranted, Data: contracts.RoleGranted{Role: role}})
	}
	return changes, nil
}

// SetRoles makes the user's roles exactly roles: RoleRevoked for those dropped, RoleGranted for
// those added. lastAdmin tells whether this user is the last active admin: it cannot lose admin.
func (u *User) SetRoles(roles []string, lastAdmin bool) ([]es.Change, error) {
	want := uniqueSorted(roles)
	if lastAdmin && u.HasRole(access.RoleAdmin) && !slices.Contains(want, access.RoleAdmin) {
		return nil, rule("/roles", "%s is the last active admin: grant admin to someone else first", u.ID)
	}
	var changes []es.Change
	for _, r := range u.Roles {
		if !slices.Contains(want, r) {
			changes = append(changes, es.Change{Type: contracts.TypeRoleRevoked, Data: contracts.RoleRevoked{Role: r}})
		}
	}
	for _, r := range want {
		if !u.HasRole(r) {
			changes = append(changes, es.Change{Type: contracts.TypeRoleGranted, Data: contracts.RoleGranted{Role: r}})
		}
	}
	return changes, nil
}

// Disable stops the user signing in. lastAdmin: the user is the last active admin, who cannot
// be disabled (nobody could administer the platform any more).
func (u *User) Disable(reason string, lastAdmin bool) ([]es.Change, error) {
	if u.Status == UserDisabled {
		return nil, &StateError{What: "user", ID: u.ID, Reason: "is disabled already"}
	}
	if lastAdmin && u.HasRole(access.RoleAdmin) {
		return nil, rule("/", "%s is the last active admin and cannot be disabled", u.ID)
	}
	return []es.Change{{Type: contracts.TypeUserDisabled, Data: contracts.UserDisabled{Reason: reason}}}, nil
}

// Enable lets a disabled user sign in again.
func (u *User) Enable() ([]es.Change, error) {
	if u.Status == UserActive {
		return nil, &StateError{What: "user", ID: u.ID, Reason: "is active already"}
	}
	return []es.Change{{Type: contracts.TypeUserEnabled, Data: contracts.UserEnabled{}}}, nil
}

// ChangePassword records a new hash (reason set by a person, rehash at login).
func (u *User) ChangePassword(hash string, reason contracts.PasswordChangeReason) ([]es.Change, error) {
	if hash == "" {
		return nil, rule("/password", "a password is required")
	}
	return []es.Change{{Type: contracts.TypeUserPasswordChanged, Data: contracts.UserPasswordChanged{PasswordHash: hash, Reason: reason}}}, nil
}

// UpdateProfile changes what differs; nothing when nothing does.
func (u *User) UpdateProfile(displayName, phone, timeZone string) []es.Change {
	d := contracts.UserProfileUpdated{}
	if displayName != "" && displayName != u.DisplayName {
		d.DisplayName = displayName
	}
	if phone != "" && phone != u.Phone {
		d.Phone = phone
	}
	if timeZone != "" && timeZone != u.TimeZone {
		d.TimeZone = timeZone
	}
	if d == (contracts.UserProfileUpdated{}) {
		return nil
	}
	return []es.Change{{Type: contracts.TypeUserProfileUpdated, Data: d}}
}

// SetPreferences records the user's notification preferences.
func (u *User) SetPreferences(p contracts.NotificationPreferencesSet) []es.Change {
	if p.Channels == nil {
		p.Channels = []contracts.PreferenceChannel{}
	}
	return []es.Change{{Type: contracts.TypeNotificationPreferencesSet, Data: p}}
}

// StreamVersion is the version of the last event applied.
func (u *User) StreamVersion() int64 { return u.Version }

// Apply implements es.Aggregate.
func (u *User) Apply(e *events.Envelope) error {
	u.Version = e.Version
	switch e.Type {
	case contracts.TypeUserRegistered:
		return events.OnPayload(e.Data, func(d contracts.UserRegistered) {
			u.ID, u.Email, u.DisplayName, u.Phone, u.TimeZone = e.StreamID, NormalizeEmail(d.Email), d.DisplayName, d.Phone, d.TimeZone
			u.PasswordHash, u.Source, u.SSOIssuer, u.SSOSubject, u.Status = d.PasswordHash, d.Source, d.SsoIssuer, d.SsoSubject, UserActive
		})
	case contracts.TypeUserProfileUpdated:
		return events.OnPayload(e.Data, func(d contracts.UserProfileUpdated) {
			u.DisplayName = cmp.Or(d.DisplayName, u.DisplayName)
			u.Phone = cmp.Or(d.Phone, u.Phone)
			u.TimeZone = cmp.Or(d.TimeZone, u.TimeZone)
		})
	case contracts.TypeUserPasswordChanged:
		return events.OnPayload(e.Data, func(d contracts.UserPasswordChanged) {
			u.PasswordHash = d.PasswordHash
		})
	case contracts.TypeUserDisabled:
		u.Status = UserDisabled
	case contracts.TypeUserEnabled:
		u.Status = UserActive
	case contracts.TypeRoleGranted:
		return events.OnPayload(e.Data, func(d contracts.RoleGranted) {
			u.Roles = insertSorted(u.Roles, d.Role)
		})
	case contracts.TypeRoleRevoked:
		return events.OnPayload(e.Data, func(d contracts.RoleRevoked) {
			u.Roles = remove(u.Roles, d.Role)
		})
	case contracts.TypeNotificationPreferencesSet:
		return events.OnPayload(e.Data, func(d contracts.NotificationPreferencesSet) {
			u.Preferences = d
		})
	}
	return nil
}

// insertSorted adds v to the sorted set s, unless s holds it already (a team's members, a
// user's roles).
func insertSorted(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	s = append(s, v)
	slices.Sort(s)
	return s
}

// remove drops v from the set s.
func remove(s []string, v string) []string {
	return slices.DeleteFunc(s, func(x string) bool { return x == v })
}

func uniqueSorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
