package sso

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/socplatform/soc/schemas/access"
)

// Grant is what membership of one provider group gives on the platform.
type Grant struct {
	Roles []string `json:"roles,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// Mapping maps provider group names, exactly as the groups claim carries them (Keycloak's full
// paths such as "/soc-analysts"), to grants. A group it does not name grants nothing.
type Mapping map[string]Grant

// ParseMapping reads a mapping document, {"<group>": {"roles": [...], "teams": [...]}}, and
// refuses, all problems at once: unknown members, empty names, and a role that is neither
// built in (access.RolePermissions) nor listed in customRoles. A typo in a role name must stop
// the start rather than silently grant nothing (or the wrong thing) at every sign-in.
func ParseMapping(doc []byte, customRoles []string) (Mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a group mapping ({\"<group>\": {\"roles\": [...], \"teams\": [...]}}): %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a group mapping: data after the JSON object")
	}
	var problems []error
	groups := make([]string, 0, len(m))
	for g := range m {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		grant := m[g]
		if strings.TrimSpace(g) == "" {
			problems = append(problems, errors.New("a group name is empty"))
		}
		for _, r := range grant.Roles {
			if _, builtin := access.RolePermissions(r); !builtin && !slices.Contains(customRoles, r) {
				problems = append(problems, fmt.Errorf("group %q: unknown role %q (built in: %s; custom roles must be listed in --oidc-custom-roles)",
					g, r, strings.Join(access.BuiltinRoles(), ", ")))
			}
		}
		for _, t := range grant.Teams {
			if strings.TrimSpace(t) == "" {
				problems = append(problems, fmt.Errorf("group %q: a team name is empty", g))
			}
		}
		if len(grant.Roles) == 0 && len(grant.Teams) == 0 {
			problems = append(problems, fmt.Errorf("group %q grants neither a role nor a team", g))
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return m, nil
}

// LoadMapping reads the mapping from spec: inline JSON when it starts with "{", else a file.
func LoadMapping(spec string, customRoles []string) (Mapping, error) {
	doc := []byte(spec)
	if !strings.HasPrefix(strings.TrimSpace(spec), "{") {
		b, err := os.ReadFile(spec)
		if err != nil {
			return nil, err
		}
		doc = b
	}
	return ParseMapping(doc, customRoles)
}

// Apply returns the roles and teams the given groups grant, sorted and without repeats.
func (m Mapping) Apply(groups []string) (roles, teams []string) {
	for _, g := range groups {
		grant := m[g]
		roles = append(roles, grant.Roles...)
		teams = append(teams, grant.Teams...)
	}
	return sortedSet(roles), sortedSet(teams)
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
