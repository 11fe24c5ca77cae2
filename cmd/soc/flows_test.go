package main

import (
	"net/http/httptest"
	"testing"

	"github.com/socplatform/soc/schemas/access"
)

func TestBearerUser(t *testing.T) {
	// Without the middleware's principal no header is a credential here: the directory's
	// tokens are gone, every session is authenticated as every other request is.
	for _, header := range []string{"", "Bearer", "Bearer alice-token", "bearer alice-token", "Basic YWxpY2U6eA=="} {
		r := httptest.NewRequest("GET", "/v1/notifications/ws", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got, err := bearerUser(r); got != "" || err == nil {
			t.Errorf("Authorization %q without a principal: user %q err %v", header, got, err)
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
		got, err := bearerUser(r.WithContext(access.With(r.Context(), c.p)))
		if got != c.user || (c.user == "") != (err != nil) {
			t.Errorf("principal %s: user %q err %v, want %q", c.p.Actor(), got, err, c.user)
		}
	}
}
