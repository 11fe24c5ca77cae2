package tokens

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the defaults are exercised once.
var cheap = PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}

func TestPasswordDefaultsRoundTrip(t *testing.T) {
	if DefaultPasswordParams != (PasswordParams{Time: 3, MemoryKiB: 65536, Threads: 4, KeyLen: 32}) {
		t.Fatalf("defaults %+v are not RFC 9106's second recommendation", DefaultPasswordParams)
	}
	enc, err := HashPassword("correct horse battery staple", DefaultPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(enc) {
		t.Fatalf("%q is not the PHC string", enc)
	}
	ok, rehash, err := VerifyPassword("correct horse battery staple", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	ok, rehash, err = VerifyPassword("correct horse battery stapler", enc)
	if err != nil || ok || rehash {
		t.Fatalf("wrong password: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
}

func TestPasswordSaltedAndWrong(t *testing.T) {
	a, err := HashPassword("hunter2", cheap)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := HashPassword("hunter2", cheap)
	if a == b {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, pw := range []string{"hunter3", "Hunter2", "hunter2 ", "", "hunter"} {
		if ok, _, err := VerifyPassword(pw, a); ok || err != nil {
			t.Errorf("%q: ok=%v err=%v", pw, ok, err)
		}
	}
}

func TestPasswordNeedsRehash(t *testing.T) {
	enc, err := HashPassword("hunter2", cheap)
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := VerifyPassword("hunter2", enc)
	if err != nil || !ok || !rehash {
		t.Fatalf("weaker params: ok=%v rehash=%v err=%v, want a rehash", ok, rehash, err)
	}
	// Only a right password asks for a rehash: the caller has nothing to rehash otherwise.
	if ok, rehash, _ := VerifyPassword("hunter3", enc); ok || rehash {
		t.Fatalf("wrong password: ok=%v rehash=%v", ok, rehash)
	}
}

func TestPasswordBounds(t *testing.T) {
	longest := strings.Repeat("p", MaxPasswordBytes)
	enc, err := HashPassword(longest, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := VerifyPassword(longest, enc); !ok {
		t.Fatal("the longest password does not verify")
	}
	if _, err := HashPassword(longest+"p", cheap); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("over the bound: %v", err)
	}
	if _, err := HashPassword("", cheap); err == nil {
		t.Fatal("hashed an empty password")
	}
	for _, p := range []PasswordParams{
		{Time: 0, MemoryKiB: 64, Threads: 1, KeyLen: 32},
		{Time: 1, MemoryKiB: 4, Threads: 1, KeyLen: 32},
		{Time: 1, MemoryKiB: 64, Threads: 0, KeyLen: 32},
		{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 4},
		{Time: 1, MemoryKiB: 4 << 20, Threads: 1, KeyLen: 32},
	} {
		if _, err := HashPassword("hunter2", p); err == nil {
			t.Errorf("hashed with %+v", p)
		}
	}
}

func TestPasswordMalformedEncodings(t *testing.T) {
	good, err := HashPassword("hunter2", cheap)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, hash
	with := func(i int, v string) string {
		g := append([]string(nil), f...)
		g[i] = v
		return strings.Join(g, "$")
	}
	for name, enc := range map[string]string{
		"empty":              "",
		"dollars":            "$$$$$",
		"argon2i":            with(1, "argon2i"),
		"bcrypt":             "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"version 16":         with(2, "v=16"),
		"no version":         strings.Join(append(f[:2:2], f[3:]...), "$"),
		"extra field":        good + "$AAAA",
		"params reordered":   with(3, "t=1,m=64,p=1"),
		"params missing":     with(3, "m=64,t=1"),
		"param not a number": with(3, "m=abc,t=1,p=1"),
		"param negative":     with(3, "m=-64,t=1,p=1"),
		"leading zero":       with(3, "m=064,t=1,p=1"),
		"no passes":          with(3, "m=64,t=0,p=1"),
		"no lanes":           with(3, "m=64,t=1,p=0"),
		"256 lanes":          with(3, "m=64,t=1,p=256"),
		"memory overflow":    with(3, "m=99999999999,t=1,p=1"),
		"4 GiB of memory":    with(3, "m=4194304,t=1,p=1"),
		"a million passes":   with(3, "m=64,t=1000000,p=1"),
		"salt not base64":    with(4, "!!!!!!!!!!!!"),
		"salt padded":        with(4, f[4]+"=="),
		"salt too short":     with(4, "AAAA"),
		"hash empty":         with(5, ""),
		"hash too short":     with(5, "AAAAAAAA"),
		"hash too long":      with(5, strings.Repeat("A", 200)),
		"hash not base64":    with(5, strings.Repeat("*", 43)),
	} {
		ok, rehash, err := VerifyPassword("hunter2", enc)
		if !errors.Is(err, ErrMalformedHash) || ok || rehash {
			t.Errorf("%s (%q): ok=%v rehash=%v err=%v", name, enc, ok, rehash, err)
		}
	}
}
