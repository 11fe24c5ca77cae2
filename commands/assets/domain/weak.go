package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/schemas/contracts"
)

// Weak identity. A report that gives an asset no stable identifier (a filesystem scan of ".", a
// SARIF log without version-control provenance, an image without a digest, a loopback host)
// still names what it scanned: an artifact name, a tool and scan root, a base URL, a scan. The
// import registers such an asset once, weakly identified by that name (AssetRegisteredWeakly),
// and every later report naming the same target, with the same hint, matches it. The key says
// nothing about the asset's kind: the hint already tells what sort of name it is.
//
// A weak key is "weak:<hint>:<name>": the hint lower-cased with anything but a-z and _ made _
// ("target" when empty); the name with control characters made spaces, trimmed, lower-cased
// and runs of white space made one space (two reports differing only in case or spacing name
// the same thing). A name longer than MaxWeakNameLen bytes is replaced by "sha256:<hex digest>"
// of it, so the key stays bounded.

// MaxWeakNameLen bounds the name part of a weak key.
const MaxWeakNameLen = 512

// WeakKey is the weak identity of a target named name with hint; "" when name is empty.
func WeakKey(hint, name string) string {
	n := strings.Join(strings.FieldsFunc(strings.ToLower(strings.ToValidUTF8(name, "\uFFFD")), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if n == "" {
		return ""
	}
	if len(n) > MaxWeakNameLen {
		sum := sha256.Sum256([]byte(n))
		n = "sha256:" + hex.EncodeToString(sum[:])
	}
	h := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(hint))
	if h == "" {
		h = "target"
	}
	return "weak:" + h + ":" + n
}

// RegisterWeak is the registration of an asset a scan could only identify weakly.
type RegisterWeak struct {
	Kind    AssetKind
	Name    string // the target's name as the report writes it (cleaned, cut to MaxNameLen)
	WeakKey string // WeakKey(hint, name)
	ScanID  string
}

// RegisterWeakly registers the asset from what a report names (AssetRegisteredWeakly).
func (a *Asset) RegisterWeakly(cmd RegisterWeak) ([]es.Change, error) {
	if a.registered {
		return nil, &TransitionError{AssetID: a.ID, From: a.Status, Command: "register"}
	}
	if err := oneOf("/kind", cmd.Kind, contracts.AssetKindValues()); err != nil {
		return nil, err
	}
	name, err := line(cleanName(cmd.Name), "/name", MaxNameLen, true)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(cmd.WeakKey, "weak:") || len(cmd.WeakKey) > 600 {
		return nil, rule("/weak_key", "weak_key must be a WeakKey")
	}
	scanID, err := line(cmd.ScanID, "/scan_id", MaxScanIDLen, true)
	if err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeAssetRegisteredWeakly,
		Data: contracts.AssetRegisteredWeakly{Kind: cmd.Kind, Name: name, WeakKey: cmd.WeakKey, ScanID: scanID}}}, nil
}
