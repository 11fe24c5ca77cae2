package domain

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/schemas/contracts"
)

// AssetKind is what an asset is (the schemas' vocabulary). The scans context's report asset kinds
// use the same values, so a sighted asset's kind converts directly.
type AssetKind = contracts.AssetKind

// The kinds, named as the domain speaks of them.
const (
	Host           = contracts.AssetKindHost
	ContainerImage = contracts.AssetKindContainerImage
	Repository     = contracts.AssetKindRepository
	WebApplication = contracts.AssetKindWebApplication
	CloudResource  = contracts.AssetKindCloudResource
)

// Kinds lists every asset kind.
var Kinds = []AssetKind{Host, ContainerImage, Repository, WebApplication, CloudResource}

// validKind reports whether k is a known kind.
func validKind(k AssetKind) bool { return slices.Contains(Kinds, k) }

// Bounds of an asset's identifiers. They are part of the event schemas: change both together.
const (
	MaxIPs        = 256
	MaxHostnames  = 64
	MaxMACs       = 64
	MaxURLLen     = 2048 // repo URL, base URL, purl
	MaxCloudIDLen = 2048
	maxHostname   = 253
)

// Identifiers are what tells one asset from another. Which fields a kind may carry, and which it
// needs, is fixed per kind (see applicable and validateIdentifiers):
//
//	host             ips, hostnames, macs (at least one of them), cloud_id (optional: a VM's instance id)
//	container_image  image_digest and/or purl (at least one)
//	repository       repo_url (required)
//	web_application  base_url (required)
//	cloud_resource   cloud_id (required)
//
// Stored identifiers are always normalised: lists deduplicated and sorted, every value in the
// canonical form its Normalize* function returns, so equal things compare equal as strings.
//
// The fields are the event schemas' (contracts.AssetIdentifiers); this type adds the rules.
type Identifiers contracts.AssetIdentifiers

// IsEmpty reports whether ids carries no identifier at all.
func (ids Identifiers) IsEmpty() bool {
	return len(ids.IPs) == 0 && len(ids.Hostnames) == 0 && len(ids.MACs) == 0 && ids.ImageDigest == "" &&
		ids.PURL == "" && ids.RepoURL == "" && ids.BaseURL == "" && ids.CloudID == ""
}

// Equal reports whether two normalised identifier sets are the same.
func (ids Identifiers) Equal(o Identifiers) bool {
	return slices.Equal(ids.IPs, o.IPs) && slices.Equal(ids.Hostnames, o.Hostnames) && slices.Equal(ids.MACs, o.MACs) &&
		ids.ImageDigest == o.ImageDigest && ids.PURL == o.PURL && ids.RepoURL == o.RepoURL &&
		ids.BaseURL == o.BaseURL && ids.CloudID == o.CloudID
}

// merge returns the union of two normalised sets; a single-valued field of b fills an empty one of a.
func merge(a, b Identifiers) Identifiers {
	out := Identifiers{
		IPs:       union(a.IPs, b.IPs, contracts.CompareIP),
		Hostnames: union(a.Hostnames, b.Hostnames, strings.Compare),
		MACs:      union(a.MACs, b.MACs, strings.Compare),
	}
	first := func(x, y string) string {
		if x != "" {
			return x
		}
		return y
	}
	out.ImageDigest, out.PURL = first(a.ImageDigest, b.ImageDigest), first(a.PURL, b.PURL)
	out.RepoURL, out.BaseURL, out.CloudID = first(a.RepoURL, b.RepoURL), first(a.BaseURL, b.BaseURL), first(a.CloudID, b.CloudID)
	return out
}

func union(a, b []string, cmp func(x, y string) int) []string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := append(append(make([]string, 0, len(a)+len(b)), a...), b...)
	slices.SortFunc(out, cmp)
	return slices.Compact(out)
}

// field names, as in the JSON of Identifiers.
const (
	fIPs         = "ips"
	fHostnames   = "hostnames"
	fMACs        = "macs"
	fImageDigest = "image_digest"
	fPURL        = "purl"
	fRepoURL     = "repo_url"
	fBaseURL     = "base_url"
	fCloudID     = "cloud_id"
)

// applicable lists the identifier fields each kind may carry.
var applicable = map[AssetKind][]string{
	Host:           {fIPs, fHostnames, fMACs, fCloudID},
	ContainerImage: {fImageDigest, fPURL},
	Repository:     {fRepoURL},
	WebApplication: {fBaseURL},
	CloudResource:  {fCloudID},
}

// present lists the fields of ids that carry something.
func (ids Identifiers) present() []string {
	var out []string
	add := func(name string, ok bool) {
		if ok {
			out = append(out, name)
		}
	}
	add(fIPs, len(ids.IPs) > 0)
	add(fHostnames, len(ids.Hostnames) > 0)
	add(fMACs, len(ids.MACs) > 0)
	add(fImageDigest, ids.ImageDigest != "")
	add(fPURL, ids.PURL != "")
	add(fRepoURL, ids.RepoURL != "")
	add(fBaseURL, ids.BaseURL != "")
	add(fCloudID, ids.CloudID != "")
	return out
}

// NormalizeIdentifiers validates ids for an asset of kind k and returns them in canonical form.
// Errors are *RuleError naming the field as a JSON pointer below "/identifiers".
// It demands what the kind needs (a host needs an IP, a hostname or a MAC, …).
func NormalizeIdentifiers(k AssetKind, ids Identifiers) (Identifiers, error) {
	out, err := normalizeIdentifiers(k, ids, "/identifiers", true)
	if err != nil {
		return Identifiers{}, err
	}
	return out, nil
}

// normalizeIdentifiers is NormalizeIdentifiers with the pointer prefix and whether the set must
// be sufficient on its own (a registration) or may be a partial addition (an observation).
func normalizeIdentifiers(k AssetKind, ids Identifiers, prefix string, sufficient bool) (Identifiers, *RuleError) {
	if err := oneOf("/kind", k, contracts.AssetKindValues()); err != nil {
		return Identifiers{}, err
	}
	for _, f := range ids.present() {
		if !slices.Contains(applicable[k], f) {
			return Identifiers{}, rule(prefix+"/"+f, "a %s has no %s (it may carry %s)", k, f, strings.Join(applicable[k], ", "))
		}
	}
	var out Identifiers
	var err *RuleError
	if out.IPs, err = normalizeList(ids.IPs, prefix+"/"+fIPs, MaxIPs, NormalizeIP, contracts.CompareIP); err != nil {
		return Identifiers{}, err
	}
	if out.Hostnames, err = normalizeList(ids.Hostnames, prefix+"/"+fHostnames, MaxHostnames, NormalizeHostname, strings.Compare); err != nil {
		return Identifiers{}, err
	}
	if out.MACs, err = normalizeList(ids.MACs, prefix+"/"+fMACs, MaxMACs, NormalizeMAC, strings.Compare); err != nil {
		return Identifiers{}, err
	}
	one := func(v, name string, norm func(string) (string, error)) (string, *RuleError) {
		if v == "" {
			return "", nil
		}
		n, e := norm(v)
		if e != nil {
			return "", rule(prefix+"/"+name, "%s", e.Error())
		}
		return n, nil
	}
	if out.ImageDigest, err = one(ids.ImageDigest, fImageDigest, NormalizeImageDigest); err != nil {
		return Identifiers{}, err
	}
	if out.PURL, err = one(ids.PURL, fPURL, NormalizePURL); err != nil {
		return Identifiers{}, err
	}
	if out.RepoURL, err = one(ids.RepoURL, fRepoURL, NormalizeRepoURL); err != nil {
		return Identifiers{}, err
	}
	if out.BaseURL, err = one(ids.BaseURL, fBaseURL, NormalizeBaseURL); err != nil {
		return Identifiers{}, err
	}
	if out.CloudID, err = one(ids.CloudID, fCloudID, NormalizeCloudID); err != nil {
		return Identifiers{}, err
	}
	if !sufficient {
		if out.IsEmpty() {
			return Identifiers{}, rule(prefix, "no identifiers given")
		}
		return out, nil
	}
	switch k {
	case Host:
		if len(out.IPs)+len(out.Hostnames)+len(out.MACs) == 0 {
			return Identifiers{}, rule(prefix, "a host needs at least one IP address, hostname or MAC address")
		}
	case ContainerImage:
		if out.ImageDigest == "" && out.PURL == "" {
			return Identifiers{}, rule(prefix, "a container image needs an image digest or a purl")
		}
	case Repository:
		if out.RepoURL == "" {
			return Identifiers{}, rule(prefix+"/"+fRepoURL, "a repository needs a repo URL")
		}
	case WebApplication:
		if out.BaseURL == "" {
			return Identifiers{}, rule(prefix+"/"+fBaseURL, "a web application needs a base URL")
		}
	case CloudResource:
		if out.CloudID == "" {
			return Identifiers{}, rule(prefix+"/"+fCloudID, "a cloud resource needs a cloud id")
		}
	}
	return out, nil
}

func normalizeList(in []string, path string, max int, norm func(string) (string, error), cmp func(x, y string) int) ([]string, *RuleError) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(in))
	for i, v := range in {
		n, err := norm(v)
		if err != nil {
			return nil, rule(fmt.Sprintf("%s/%d", path, i), "%s", err.Error())
		}
		out = append(out, n)
	}
	slices.SortFunc(out, cmp)
	out = slices.Compact(out)
	if len(out) > max {
		return nil, rule(path, "at most %d distinct values (got %d)", max, len(out))
	}
	return out, nil
}

// NormalizeIP parses an IPv4 or IPv6 address (net/netip) and returns its canonical text:
// IPv4-mapped IPv6 addresses become IPv4, zones are dropped, IPv6 is compressed lower-case.
// Prefixes ("10.0.0.0/8") and ranges are refused.
func NormalizeIP(s string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address", clip(s))
	}
	return a.WithZone("").Unmap().String(), nil
}

// NormalizeMAC accepts a 48-bit MAC address as aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff,
// aabb.ccdd.eeff or aabbccddeeff (any case) and returns it as AA:BB:CC:DD:EE:FF.
func NormalizeMAC(s string) (string, error) {
	s = strings.TrimSpace(s)
	var hex string
	switch {
	case len(s) == 17 && (s[2] == ':' || s[2] == '-'):
		sep := s[2]
		for i := 0; i < 6; i++ {
			if i < 5 && s[i*3+2] != sep {
				return "", fmt.Errorf("%q is not a MAC address", clip(s))
			}
			hex += s[i*3 : i*3+2]
		}
	case len(s) == 14 && s[4] == '.' && s[9] == '.':
		hex = s[0:4] + s[5:9] + s[10:14]
	case len(s) == 12:
		hex = s
	default:
		return "", fmt.Errorf("%q is not a MAC address (want AA:BB:CC:DD:EE:FF)", clip(s))
	}
	hex = strings.ToUpper(hex)
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return "", fmt.Errorf("%q is not a MAC address (not hexadecimal)", clip(s))
		}
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String(), nil
}

var labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NormalizeHostname lower-cases a host name, drops a trailing dot and checks it against RFC 1123
// (labels of 1–63 letters, digits and hyphens, not starting or ending with a hyphen; 253 chars
// in all). An IP address is not a hostname. Internationalised names must be given in their
// ASCII (xn--) form.
func NormalizeHostname(s string) (string, error) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if h == "" {
		return "", fmt.Errorf("hostname is empty")
	}
	if len(h) > maxHostname {
		return "", fmt.Errorf("hostname is longer than %d characters", maxHostname)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return "", fmt.Errorf("%q is an IP address, not a hostname", clip(s))
	}
	for _, l := range strings.Split(h, ".") {
		if !labelRe.MatchString(l) {
			return "", fmt.Errorf("%q is not an RFC 1123 hostname (label %q)", clip(s), clip(l))
		}
	}
	return h, nil
}

// NormalizeImageDigest accepts "sha256:" followed by 64 hexadecimal digits, returned lower-case.
func NormalizeImageDigest(s string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(s))
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%q is not an image digest (want sha256: and 64 hex digits)", clip(s))
	}
	return d, nil
}

// NormalizePURL accepts a package URL of an image, pkg:oci/… or pkg:docker/…; "pkg:" and the
// type are lower-cased and the qualifiers sorted, so that their order does not change identity.
func NormalizePURL(s string) (string, error) {
	p := strings.TrimSpace(s)
	if len(p) > MaxURLLen {
		return "", fmt.Errorf("purl is longer than %d characters", MaxURLLen)
	}
	if len(p) < 4 || !strings.EqualFold(p[:4], "pkg:") {
		return "", fmt.Errorf("%q is not a purl (want pkg:oci/… or pkg:docker/…)", clip(s))
	}
	typ, rest, _ := strings.Cut(p[4:], "/")
	typ = strings.ToLower(typ)
	if typ != "oci" && typ != "docker" {
		return "", fmt.Errorf("%q is not an image purl (want pkg:oci/… or pkg:docker/…)", clip(s))
	}
	if strings.IndexFunc(rest, spaceOrControl) >= 0 {
		return "", fmt.Errorf("purl must not contain spaces")
	}
	base, sub, hasSub := strings.Cut(rest, "#")
	base, q, hasQ := strings.Cut(base, "?")
	name := base
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if strings.Trim(name, "/") == "" {
		return "", fmt.Errorf("%q has no name", clip(s))
	}
	out := "pkg:" + typ + "/" + base
	if hasQ && q != "" {
		parts := strings.Split(q, "&")
		slices.Sort(parts)
		out += "?" + strings.Join(parts, "&")
	}
	if hasSub && sub != "" {
		out += "#" + sub
	}
	return out, nil
}

// caseInsensitiveForges are hosts whose repository paths ignore case (GitHub, GitLab.com and
// Bitbucket redirect Org/Repo to org/repo), so their paths are lower-cased too.
var caseInsensitiveForges = map[string]bool{"github.com": true, "gitlab.com": true, "bitbucket.org": true}

var scpLikeRe = regexp.MustCompile(`^(?:[^@/\s]+@)?([^:/\s\[\]]+):([^\s]+)$`)

// urlInput trims s, an identifier given as a URL, and refuses it when empty, longer than
// MaxURLLen or holding white space or control characters; what names it in the errors.
func urlInput(s, what string) (string, error) {
	raw := strings.TrimSpace(s)
	switch {
	case raw == "":
		return "", fmt.Errorf("%s is empty", what)
	case len(raw) > MaxURLLen:
		return "", fmt.Errorf("%s is longer than %d characters", what, MaxURLLen)
	case strings.IndexFunc(raw, spaceOrControl) >= 0:
		return "", fmt.Errorf("%s must not contain spaces", what)
	}
	return raw, nil
}

func spaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// NormalizeRepoURL accepts a repository's https, http, ssh, git or scp-like (git@host:org/repo)
// URL and returns its identity as https://<host>/<path>: scheme, user and port dropped, host
// lower-cased, query and fragment dropped, a trailing "/" and ".git" stripped. Paths on
// github.com, gitlab.com and bitbucket.org are lower-cased as well, since those forges ignore case.
// So https://GitHub.com/org/repo.git/, git@github.com:org/repo.git and ssh://git@github.com/org/repo
// are all https://github.com/org/repo.
func NormalizeRepoURL(s string) (string, error) {
	raw, err := urlInput(s, "repo URL")
	if err != nil {
		return "", err
	}
	var host, path string
	if i := strings.Index(raw, "://"); i >= 0 {
		switch strings.ToLower(raw[:i]) {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git", "git+https":
		default:
			return "", fmt.Errorf("%q: a repo URL's scheme must be https, http, ssh or git", clip(s))
		}
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("%q is not a repo URL: %v", clip(s), unwrapURLError(err))
		}
		host, path = u.Hostname(), u.EscapedPath()
	} else {
		m := scpLikeRe.FindStringSubmatch(raw)
		if m == nil {
			return "", fmt.Errorf("%q is not a repo URL (want https://host/org/repo or git@host:org/repo)", clip(s))
		}
		host, path = m[1], m[2]
	}
	h, err := canonicalHost(host)
	if err != nil {
		return "", fmt.Errorf("%q: %v", clip(s), err)
	}
	if strings.Contains(path, "\\") {
		return "", fmt.Errorf("%q is not a repo URL (backslash in the path)", clip(s))
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.Trim(path, "/")
	if path == "" {
		return "", fmt.Errorf("%q names no repository (the path is empty)", clip(s))
	}
	if caseInsensitiveForges[h] {
		path = strings.ToLower(path)
	}
	return "https://" + h + "/" + path, nil
}

// NormalizeBaseURL accepts the base URL of a web application, scheme://host[:port] with an
// optional "/", and returns it with scheme and host lower-cased and the default port (80 for
// http, 443 for https) dropped: HTTPS://Example.com:443/ is https://example.com.
// A path beyond "/", a query, a fragment or credentials are refused.
func NormalizeBaseURL(s string) (string, error) { return normalizeBaseURL(s, false) }

// normalizeBaseURL with lenient set reduces a URL with a path to its origin instead of refusing it
// (discovery: a scanner's "site" may carry a path).
func normalizeBaseURL(s string, lenient bool) (string, error) {
	raw, err := urlInput(s, "base URL")
	if err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", clip(s), unwrapURLError(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q: a base URL's scheme must be http or https", clip(s))
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%q has no host", clip(s))
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: a base URL must not carry credentials", clip(s))
	}
	if !lenient {
		if u.Path != "" && u.Path != "/" {
			return "", fmt.Errorf("%q: a base URL is scheme://host[:port], without a path (got %q)", clip(s), clip(u.Path))
		}
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return "", fmt.Errorf("%q: a base URL has no query or fragment", clip(s))
		}
	}
	h, err := canonicalHost(u.Hostname())
	if err != nil {
		return "", fmt.Errorf("%q: %v", clip(s), err)
	}
	out := scheme + "://" + h
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: port must be 1–65535", clip(s))
		}
		if !(scheme == "http" && n == 80 || scheme == "https" && n == 443) {
			out += ":" + strconv.Itoa(n)
		}
	}
	return out, nil
}

// canonicalHost returns an IP (IPv6 in brackets) or an RFC 1123 host name, lower-cased.
func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("no host")
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Is6() && !a.Is4In6() {
			return "[" + a.WithZone("").String() + "]", nil
		}
		return a.Unmap().String(), nil
	}
	n, err := NormalizeHostname(h)
	if err != nil {
		return "", fmt.Errorf("host: %v", err)
	}
	return n, nil
}

// NormalizeCloudID accepts a cloud provider's resource id — an AWS ARN, an Azure resource id
// (/subscriptions/…), a GCP self-link or full resource name, or another provider's id — trimmed,
// non-empty, at most 2048 characters, without control characters. Azure resource ids are
// case-insensitive and are lower-cased; other ids are kept as given (ARNs are case-sensitive).
func NormalizeCloudID(s string) (string, error) {
	id := strings.TrimSpace(s)
	switch {
	case id == "":
		return "", fmt.Errorf("cloud id is empty")
	case len(id) > MaxCloudIDLen:
		return "", fmt.Errorf("cloud id is longer than %d characters", MaxCloudIDLen)
	case !utf8.ValidString(id) || strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "", fmt.Errorf("cloud id contains control characters or invalid UTF-8")
	}
	if len(id) > len("/subscriptions/") && strings.EqualFold(id[:len("/subscriptions/")], "/subscriptions/") {
		id = strings.ToLower(id)
	}
	return id, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Placeholders: values that are valid but identify nothing (a MAC every VRRP router shares, the
// loopback address). They may be stored, but discovery drops them and matching never uses them.

// PlaceholderMAC reports whether a normalised MAC must never identify a host: all zeros,
// broadcast, multicast (group bit set), VRRP (00:00:5E:00:01:xx, 00:00:5E:00:02:xx),
// HSRP (00:00:0C:07:AC:xx, 00:00:0C:9F:Fx:xx), GLBP (00:07:B4:00:xx:xx) virtual router MACs,
// and Docker's default-bridge MACs (02:42:AC:11:xx:xx, derived from 172.17.x.x, so the same on
// every Docker host).
func PlaceholderMAC(mac string) bool {
	if len(mac) != 17 {
		return true
	}
	first, err := strconv.ParseUint(mac[:2], 16, 8)
	if err != nil {
		return true
	}
	switch {
	case mac == "00:00:00:00:00:00", mac == "FF:FF:FF:FF:FF:FF", first&1 == 1:
		return true
	case strings.HasPrefix(mac, "00:00:5E:00:01:"), strings.HasPrefix(mac, "00:00:5E:00:02:"):
		return true
	case strings.HasPrefix(mac, "00:00:0C:07:AC:"), strings.HasPrefix(mac, "00:00:0C:9F:F"):
		return true
	case strings.HasPrefix(mac, "00:07:B4:00:"):
		return true
	case strings.HasPrefix(mac, "02:42:AC:11:"):
		return true
	}
	return false
}

// PlaceholderIP reports whether a normalised IP identifies no machine: unspecified (0.0.0.0, ::),
// loopback, multicast or the limited broadcast address.
func PlaceholderIP(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return true
	}
	return a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// matchableIP reports whether an IP may identify a host across a network: not a placeholder and
// not link-local (169.254.0.0/16 and fe80::/10 repeat on every link).
func matchableIP(ip string) bool {
	if PlaceholderIP(ip) {
		return false
	}
	a, _ := netip.ParseAddr(ip)
	return !a.IsLinkLocalUnicast()
}

// PlaceholderHostname reports whether a normalised host name names every machine (localhost).
func PlaceholderHostname(h string) bool {
	switch h {
	case "localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6", "ip6-localhost", "ip6-loopback":
		return true
	}
	return false
}
