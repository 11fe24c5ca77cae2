package fts

import "unicode"

// isTokenRune reports whether search.Tokens keeps r inside a token (a letter or a number); a
// test checks the two agree.
func isTokenRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }
