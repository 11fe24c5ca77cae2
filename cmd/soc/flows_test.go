package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"testing"

	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/schemas/access"
)

func TestBearerUser(t *testing.T) {
	sum := sha256.Sum256([]byte("alice-token"))
	dir, err := notifyapp.NewDirectory(notifyapp.Directory{Users: []notifyapp.User{
		{ID: "alice", Email: "alice@example.com", WSTokenSHA256: hex.EncodeToString(sum[:])},
		{ID: "bob", Email: "bob@example.com"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	auth := bearerUser(dir)
	for _, c := range []struct {
		header, user string
	}{
		{"", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Basic YWxpY2U6eA==", ""},
		{"Bearer wrong-token", ""},
		{"Bearer alice-token", "alice"},
		{"bearer alice-token", "alice"},
		{"BEARER  alice-token ", "alice"},
	} {
		r := httptest.NewRequest("GET", "/v1/notifications/ws", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		got, err := auth(r)
		if got != c.user || (c.user == "") != (err != nil) {
			t.Errorf("Authorization %q: user %q err %v, want %q", c.header, got, err, c.user)
		}
	}
	// Behind the access middleware the session is the principal's user, whatever the header.
	for _, c := range []struct {
		p    access.Principal
		user string
	}{
		{access.Principal{Kind: access.KindUser, ID: "u-7"}, "u-7"},
		{access.Principal{Kind: access.KindToken, ID: "t-1", UserID: "u-8"}, "u-8"},
		{access.System("kev_alert"), ""},
	} {
		r := httptest.NewRequest("GET", "/v1/notifications/ws", nil)
		r.Header.Set("Authorization", "Bearer alice-token")
		got, err := auth(r.WithContext(access.With(r.Context(), c.p)))
		if got != c.user || (c.user == "") != (err != nil) {
			t.Errorf("principal %s: user %q err %v, want %q", c.p.Actor(), got, err, c.user)
		}
	}
}
