package app

// The binary wires the tokens package (commands/identity/tokens) in with these, so that this
// package does not import it:
//
//	kr, err := tokens.OpenKeyring(keyCfg, time.Now)
//	deps := app.Deps{Store: store, Keyring: keyring{kr}, // Verify: c, err := kr.Verify(t); return app.AccessClaims(c), err
//		Passwords: app.PasswordFuncs{HashFunc: func(pw string) (string, error) { return tokens.HashPassword(pw, tokens.DefaultPasswordParams) },
//			VerifyFunc: tokens.VerifyPassword},
//		Secrets: app.SecretFuncs{NewFunc: tokens.NewSecret, HashFunc: tokens.HashSecret}}
//
// AccessClaims has tokens.Claims' fields in its order, so app.AccessClaims(c) converts one.

// SecretFuncs is Secrets made of two functions (tokens.NewSecret, tokens.HashSecret).
type SecretFuncs struct {
	NewFunc  func(prefix string) (plain, hash string, err error)
	HashFunc func(plain string) string
}

// New implements Secrets.
func (f SecretFuncs) New(prefix string) (string, string, error) { return f.NewFunc(prefix) }

// Hash implements Secrets.
func (f SecretFuncs) Hash(plain string) string { return f.HashFunc(plain) }

// PasswordFuncs is Passwords made of two functions (tokens.HashPassword with the current
// parameters, tokens.VerifyPassword).
type PasswordFuncs struct {
	HashFunc   func(password string) (string, error)
	VerifyFunc func(password, encoded string) (ok, needsRehash bool, err error)
}

// Hash implements Passwords.
func (f PasswordFuncs) Hash(password string) (string, error) { return f.HashFunc(password) }

// Verify implements Passwords.
func (f PasswordFuncs) Verify(password, encoded string) (bool, bool, error) {
	return f.VerifyFunc(password, encoded)
}
