package domain

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// RoleStreamID is a custom role's stream: derived from its name, so that defining a role twice
// finds the first definition (role names are unique).
func RoleStreamID(name string) string { return es.StreamIDFor("identity", "role", name) }

// Role is a custom role: a named set of permissions. Built-in roles are not aggregates: they
// are schemas/access's and cannot be redefined.
type Role struct {
	Name        string
	Permissions []access.Permission // sorted
	Description string
	Version     int64
}

// Exists reports whether the role was defined.
func (r *Role) Exists() bool { return r.Name != "" }

// Define defines the role, or redefines it with other permissions (nothing when unchanged).
func (r *Role) Define(name string, perms []access.Permission, description string) ([]es.Change, error) {
	if _, builtin := access.RolePermissions(name); builtin {
		return nil, rule("/name", "%s is a built-in role and cannot be redefined", name)
	}
	if len(perms) == 0 {
		return nil, rule("/permissions", "a role grants at least one permission")
	}
	ps := slices.Clone(perms)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	for i, p := range ps {
		if !access.Known(p) {
			return nil, rule("/permissions/"+strconv.Itoa(i), "%q is no permission", p)
		}
	}
	if r.Exists() && slices.Equal(r.Permissions, ps) && r.Description == description {
		return nil, nil
	}
	data := contracts.RoleDefinedV2{Name: name, Description: description}
	for _, p := range ps {
		data.Permissions = append(data.Permissions, contracts.PermissionV2(p))
	}
	return []es.Change{{Type: contracts.TypeRoleDefined, Data: data}}, nil
}

// StreamVersion is the version of the last event applied.
func (r *Role) StreamVersion() int64 { return r.Version }

// Apply implements es.Aggregate.
func (r *Role) Apply(e *events.Envelope) error {
	r.Version = e.Version
	if e.Type != contracts.TypeRoleDefined {
		return nil
	}
	var d contracts.RoleDefinedV2
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	r.Name, r.Description, r.Permissions = d.Name, d.Description, nil
	for _, p := range d.Permissions {
		r.Permissions = append(r.Permissions, access.Permission(p))
	}
	return nil
}
