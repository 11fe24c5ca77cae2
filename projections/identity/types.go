package identity

import (
	"time"

	"github.com/socplatform/soc/schemas/contracts"
)

// User is a user as projected: never a password hash.
type User struct {
	ID          string                                `json:"id"`
	Email       string                                `json:"email"`
	DisplayName string                                `json:"display_name"`
	Phone       string                                `json:"phone,omitempty"`
	TimeZone    string                                `json:"time_zone,omitempty"`
	Status      string                                `json:"status"` // active | disabled
	Source      string                                `json:"source"`
	Roles       []string                              `json:"roles"`
	Preferences *contracts.NotificationPreferencesSet `json:"preferences,omitempty"`
	CreatedAt   time.Time                             `json:"created_at"`
	UpdatedAt   time.Time                             `json:"updated_at"`
	Version     int64                                 `json:"version"`
}

// Team is a team and its members (user ids, sorted); the lead is one of them.
type Team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Lead      string    `json:"lead,omitempty"`
	Members   []string  `json:"members"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Token is an API token as projected: never its secret or hash.
type Token struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	OwnerID      string     `json:"owner_id"`
	Scopes       []string   `json:"scopes"`
	Teams        []string   `json:"teams,omitempty"`
	DefinitionID string     `json:"definition_id,omitempty"`
	ExpiresAt    time.Time  `json:"expires_at"`
	Revoked      bool       `json:"revoked"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"` // from identity_token_usage
	Version      int64      `json:"version"`
}

// Session is a sign-in as projected: never a refresh token or its hash.
type Session struct {
	ID            string    `json:"id"`
	UserID        string    `json:"user_id"`
	Source        string    `json:"source"`
	StartedAt     time.Time `json:"started_at"`
	LastRefreshed time.Time `json:"last_refreshed_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	Refreshes     int64     `json:"refreshes"`
	Revoked       string    `json:"revoked,omitempty"` // the reason; empty while live
	Version       int64     `json:"version"`
}
