// Package tokens holds the identity context's cryptography: the Ed25519 keyring that signs and
// verifies access tokens (JWT), the JWKS that publishes its public keys, the opaque secrets
// (API tokens, refresh tokens, invitations) and the password hashes. It knows nothing of
// users, sessions or events: commands/identity/app decides who gets a token, this package only
// makes and checks them.
//
// # Access tokens
//
// Access tokens are JWTs (RFC 7519) signed with EdDSA over Ed25519 (RFC 8037) by
// github.com/go-jose/go-jose/v4. One algorithm only: Verify hands the parser the list
// [EdDSA], so "alg": "none", HMAC with the public key as the secret (the classic confusion
// attack) or any RSA/ECDSA variant is refused before a key is even looked up. Ed25519 has no
// parameters to get wrong, small keys and signatures, and fast verification (see bench_test.go).
//
// A token carries iss, aud, sub (the user id), sid (the session), jti (random, 128 bits), iat,
// nbf and exp; its header names the key (kid) and its type ("at+jwt", RFC 9068, so a JWT of
// another kind signed by the same key is not taken for an access token). Verify requires all of
// them: a token without exp would otherwise never expire. Times are checked with a leeway of
// 30 s (Leeway) for clock skew between the nodes that issue and the nodes that verify; it is
// small next to the 15 min access-token lifetime. Tokens are bounded to 8 KiB (MaxTokenBytes)
// before anything is parsed: ours are about 500 bytes, and a bound keeps the base64 and JSON
// decoding of hostile input cheap.
//
// # Keys
//
// The keyring keeps its keys in KeyConfig.Dir (created with mode 0700), one file per key
// (key-<kid>.json, mode 0600; a key file open to other users is refused, like ssh does). The kid is the key's
// RFC 7638 thumbprint, so it is a function of the key: two nodes can never give one kid to two
// keys, and a file whose content does not match its name is refused. A key file is written once
// (to a temporary file, synced, then renamed into place) and never changed, so a reader sees a
// whole key or none, and nodes sharing the directory need no lock: the active key is simply the
// newest one, and a key is retired by the creation of a newer one.
//
// The active key rotates every KeyConfig.RotateEvery, checked lazily by Issue. Two nodes that
// rotate at the same moment each write a key; both are valid, the newer wins on every node at
// its next reload, and tokens signed by the other one still verify until they expire. A retired
// key stays (in the JWKS too) for AccessTTL + Leeway + ReloadEvery after its retirement: every
// token it signed has expired by then, counting the leeway and the time another node may take to
// notice the rotation. Then every node drops it and the file is deleted.
//
// A node reloads the directory when Verify meets a kid it does not know (at once when the
// directory changed since the last load, otherwise at most once per ReloadEvery, so a stream of
// forged kids costs a stat, not a directory read each), and before an Issue when its view is
// older than ReloadEvery (so it stops signing with a key another node retired).
//
// # Secrets and passwords
//
// API tokens, refresh tokens and invitations are opaque: 32 random bytes, base64url, behind a
// prefix saying what they are (PrefixAPIToken, PrefixRefreshToken, PrefixInvitation), so a
// leaked one is recognisable by secret scanners. Only their SHA-256 is stored; they carry 256
// bits of entropy, so a fast hash is enough (nothing to brute-force), unlike passwords.
//
// Passwords are hashed with argon2id (RFC 9106) at its second recommended option, the one for
// memory-constrained servers: t=3 passes over 64 MiB with 4 lanes, 16-byte salt, 32-byte key
// (DefaultPasswordParams), encoded as the PHC string $argon2id$v=19$m=65536,t=3,p=4$salt$hash.
// Passwords are bounded to MaxPasswordBytes so a request cannot make the server hash megabytes.
package tokens
