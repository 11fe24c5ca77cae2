package fts

import (
	"strings"
	"unicode"
)

// isTokenRune reports whether search.Tokens keeps r inside a token (a letter or a digit).
func isTokenRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// tokens splits a query value as search.Tokens does.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isTokenRune(r) })
}
