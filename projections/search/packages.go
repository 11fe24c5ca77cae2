package search

import (
	"net/url"
	"slices"
	"strings"
)

// PackageNames returns the names the package: operator matches for a finding's component:
// component is what the findings list shows of it (name@version, see projections/vulns'
// componentString), purls are the package URLs the report gave for it. Analysts type a package
// the way their ecosystem spells it, with or without its group or scope, so each form gives
// the full name and the bare one:
//
//   - "name@version" → "name";
//   - Maven "group:artifact@version" → "group:artifact" and "artifact";
//   - npm "@scope/name@version", Go "golang.org/x/net@v0.17.0" → "@scope/name" and "name";
//   - purl "pkg:type/namespace/name@version?qualifiers#subpath" → "namespace/name" and "name"
//     (percent-decoded: npm's "%40scope" is "@scope").
//
// The component string falls back to a finding's location when the report named no package
// (a URL, "file:line", "host:port", a path): a string without a version that looks like one of
// those gives no name. The names are lower-cased (the operator matches case-insensitively),
// without duplicates, sorted.
func PackageNames(component string, purls ...string) []string {
	var names []string
	add := func(full string) {
		full = strings.ToLower(strings.TrimSpace(full))
		if full == "" {
			return
		}
		names = append(names, full)
		if i := strings.LastIndexAny(full, ":/"); i >= 0 && i < len(full)-1 {
			names = append(names, full[i+1:])
		}
	}
	if name, ok := componentName(component); ok {
		add(name)
	}
	for _, p := range purls {
		if ns, name, ok := parsePURL(p); ok {
			if ns != "" {
				add(ns + "/" + name)
			} else {
				add(name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// componentName is the package name of a component string ("" and false for a location).
func componentName(c string) (string, bool) {
	c = strings.TrimSpace(c)
	if c == "" || strings.ContainsAny(c, " \t\\") || strings.Contains(c, "://") {
		return "", false
	}
	// The version follows the first "@" past the first character (npm scopes start with one).
	if i := strings.Index(c[1:], "@"); i >= 0 {
		name, version := c[:i+1], c[i+2:]
		if strings.HasPrefix(version, "sha256:") { // an image by digest is a location
			return "", false
		}
		return name, name != "" && name != "@"
	}
	// No version: a location unless it is a plain name (or group:artifact). A path has a
	// slash; "host:port", "file:line" and an image's "name:1.19" a numeric suffix after
	// their last colon.
	if strings.HasPrefix(c, "@") && strings.Count(c, "/") == 1 { // an unversioned npm scoped name
		return c, true
	}
	if strings.Contains(c, "/") {
		return "", false
	}
	if i := strings.LastIndex(c, ":"); i >= 0 && strings.Trim(c[i+1:], "0123456789.") == "" {
		return "", false
	}
	return c, true
}

// parsePURL returns a package URL's namespace and name, percent-decoded
// (https://github.com/package-url/purl-spec: pkg:type/namespace/name@version?qualifiers#subpath).
func parsePURL(p string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(p), "pkg:")
	if !found {
		return "", "", false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, _, _ = strings.Cut(rest, "?")
	rest = strings.Trim(rest, "/")
	_, path, found := strings.Cut(rest, "/") // drop the type
	if !found {
		return "", "", false
	}
	if i := strings.LastIndex(path, "@"); i >= 0 && i > strings.LastIndex(path, "/") {
		path = path[:i]
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			segs[i] = d
		}
	}
	name = segs[len(segs)-1]
	if name == "" {
		return "", "", false
	}
	return strings.Join(segs[:len(segs)-1], "/"), name, true
}
