package tokens

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestJWKSDocument(t *testing.T) {
	k, _, _ := newRing(t)
	b, err := k.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 1 {
		t.Fatalf("keys %v", doc.Keys)
	}
	key := activeKey(k)
	want := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(key.pub),
		"kid": key.kid, "use": "sig", "alg": "EdDSA"}
	got := doc.Keys[0]
	if len(got) != len(want) { // nothing more: above all no "d", the private key
		t.Fatalf("JWK members %v, want %v", got, want)
	}
	for m, v := range want {
		if got[m] != v {
			t.Errorf("%s = %v, want %v", m, got[m], v)
		}
	}
	// A standard JWKS client verifies our tokens with it.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	sig, err := jose.ParseSignedCompact(issue(t, k), []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	jwk := set.Key(sig.Signatures[0].Header.KeyID)
	if len(jwk) != 1 {
		t.Fatalf("kid %q not in the JWKS", sig.Signatures[0].Header.KeyID)
	}
	if _, ok := jwk[0].Key.(ed25519.PublicKey); !ok {
		t.Fatalf("key type %T", jwk[0].Key)
	}
	if _, err := sig.Verify(jwk[0].Key); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSHandler(t *testing.T) {
	k, _, _ := newRing(t)
	h := k.JWKSHandler()
	want, _ := k.JWKS()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(want) {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("Cache-Control %q", cc)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: %d, %d bytes", rec.Code, rec.Body.Len())
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("POST: %d %v", rec.Code, rec.Header())
	}
}
