package identity

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/contracts"
)

// decode reads an event's data into D.
func decode[D any](e *events.Envelope) (D, error) {
	var d D
	err := json.Unmarshal(e.Data, &d)
	return d, err
}

// existing refuses an event on a row that was never created (a poison event).
func existing[R any](r *R, e *events.Envelope, first string) (*R, error) {
	if r == nil {
		return nil, fmt.Errorf("%s on %s before its %s", e.Type, e.StreamID, first)
	}
	c := *r // rows are values: the batch keeps the loaded one to compare
	return &c, nil
}

var userEvents = []string{contracts.TypeUserRegistered, contracts.TypeUserProfileUpdated, contracts.TypeUserPasswordChanged,
	contracts.TypeUserDisabled, contracts.TypeUserEnabled, contracts.TypeRoleGranted, contracts.TypeRoleRevoked,
	contracts.TypeNotificationPreferencesSet}

func isUserEvent(t string) bool { return slices.Contains(userEvents, t) }

// foldUser applies one user event.
func foldUser(u *User, e *events.Envelope) (*User, error) {
	if e.Type == contracts.TypeUserRegistered {
		d, err := decode[contracts.UserRegistered](e)
		if err != nil {
			return nil, err
		}
		return &User{ID: e.StreamID, Email: strings.ToLower(d.Email), DisplayName: d.DisplayName, Phone: d.Phone, TimeZone: d.TimeZone,
			Status: "active", Source: string(d.Source), CreatedAt: readkit.EventTime(e), UpdatedAt: readkit.EventTime(e), Version: e.Version}, nil
	}
	u, err := existing(u, e, contracts.TypeUserRegistered)
	if err != nil {
		return nil, err
	}
	u.UpdatedAt, u.Version = readkit.EventTime(e), e.Version
	switch e.Type {
	case contracts.TypeUserProfileUpdated:
		d, err := decode[contracts.UserProfileUpdated](e)
		if err != nil {
			return nil, err
		}
		if d.DisplayName != "" {
			u.DisplayName = d.DisplayName
		}
		if d.Phone != "" {
			u.Phone = d.Phone
		}
		if d.TimeZone != "" {
			u.TimeZone = d.TimeZone
		}
	case contracts.TypeUserDisabled:
		u.Status = "disabled"
	case contracts.TypeUserEnabled:
		u.Status = "active"
	case contracts.TypeRoleGranted:
		d, err := decode[contracts.RoleGranted](e)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(u.Roles, d.Role) {
			u.Roles = append(slices.Clone(u.Roles), d.Role)
			slices.Sort(u.Roles)
		}
	case contracts.TypeRoleRevoked:
		d, err := decode[contracts.RoleRevoked](e)
		if err != nil {
			return nil, err
		}
		u.Roles = readkit.NonEmpty(slices.DeleteFunc(slices.Clone(u.Roles), func(r string) bool { return r == d.Role }))
	case contracts.TypeNotificationPreferencesSet:
		d, err := decode[contracts.NotificationPreferencesSet](e)
		if err != nil {
			return nil, err
		}
		u.Preferences = &d
	}
	// UserPasswordChanged changes nothing projected: the hash is not the read side's.
	return u, nil
}

var teamEvents = []string{contracts.TypeTeamCreated, contracts.TypeTeamLeadChanged, contracts.TypeTeamMemberAdded, contracts.TypeTeamMemberRemoved}

func isTeamEvent(t string) bool { return slices.Contains(teamEvents, t) }

func foldTeam(t *Team, e *events.Envelope) (*Team, error) {
	if e.Type == contracts.TypeTeamCreated {
		d, err := decode[contracts.TeamCreated](e)
		if err != nil {
			return nil, err
		}
		t := &Team{ID: e.StreamID, Name: d.Name, CreatedAt: readkit.EventTime(e), UpdatedAt: readkit.EventTime(e), Version: e.Version}
		if d.Lead != "" {
			t.Lead, t.Members = d.Lead, []string{d.Lead}
		}
		return t, nil
	}
	t, err := existing(t, e, contracts.TypeTeamCreated)
	if err != nil {
		return nil, err
	}
	t.UpdatedAt, t.Version = readkit.EventTime(e), e.Version
	switch e.Type {
	case contracts.TypeTeamLeadChanged:
		d, err := decode[contracts.TeamLeadChanged](e)
		if err != nil {
			return nil, err
		}
		t.Lead = d.Lead
	case contracts.TypeTeamMemberAdded:
		d, err := decode[contracts.TeamMemberAdded](e)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(t.Members, d.UserID) {
			t.Members = append(slices.Clone(t.Members), d.UserID)
			slices.Sort(t.Members)
		}
	case contracts.TypeTeamMemberRemoved:
		d, err := decode[contracts.TeamMemberRemoved](e)
		if err != nil {
			return nil, err
		}
		t.Members = readkit.NonEmpty(slices.DeleteFunc(slices.Clone(t.Members), func(m string) bool { return m == d.UserID }))
	}
	return t, nil
}

func isTokenEvent(t string) bool {
	return t == contracts.TypeApiTokenIssued || t == contracts.TypeApiTokenRevoked
}

func foldToken(t *Token, e *events.Envelope) (*Token, error) {
	if e.Type == contracts.TypeApiTokenIssued {
		d, err := decode[contracts.ApiTokenIssuedV2](e)
		if err != nil {
			return nil, err
		}
		t := &Token{ID: e.StreamID, Name: d.Name, OwnerID: d.OwnerID, Teams: readkit.NonEmpty(d.Teams), DefinitionID: d.DefinitionID,
			ExpiresAt: readkit.Stored(d.ExpiresAt), CreatedAt: readkit.EventTime(e), Version: e.Version}
		for _, s := range d.Scopes {
			t.Scopes = append(t.Scopes, string(s))
		}
		return t, nil
	}
	t, err := existing(t, e, contracts.TypeApiTokenIssued)
	if err != nil {
		return nil, err
	}
	t.Revoked, t.Version = true, e.Version
	return t, nil
}

func isSessionEvent(t string) bool {
	return t == contracts.TypeSessionStarted || t == contracts.TypeSessionRefreshed || t == contracts.TypeSessionRevoked
}

func foldSession(s *Session, e *events.Envelope) (*Session, error) {
	if e.Type == contracts.TypeSessionStarted {
		d, err := decode[contracts.SessionStarted](e)
		if err != nil {
			return nil, err
		}
		return &Session{ID: e.StreamID, UserID: d.UserID, Source: string(d.Source), StartedAt: readkit.EventTime(e),
			LastRefreshed: readkit.EventTime(e), ExpiresAt: readkit.Stored(d.ExpiresAt), Version: e.Version}, nil
	}
	s, err := existing(s, e, contracts.TypeSessionStarted)
	if err != nil {
		return nil, err
	}
	s.Version = e.Version
	switch e.Type {
	case contracts.TypeSessionRefreshed:
		s.Refreshes++
		s.LastRefreshed = readkit.EventTime(e)
	case contracts.TypeSessionRevoked:
		d, err := decode[contracts.SessionRevoked](e)
		if err != nil {
			return nil, err
		}
		s.Revoked = string(d.Reason)
	}
	return s, nil
}
