package app

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/access"
)

// directory is the identity context's in-memory state, folded from the identity events of $all:
// every aggregate and the indexes a request needs at once (user by email, session and token by
// the hash of their secret). It follows the log (sync before a decision, the eventlog consumer
// in between), so a restart rebuilds it and another node's sessions and tokens reach it.
type directory struct {
	mu     sync.RWMutex
	cursor snapshot.Mark
	st     directoryState
	// derived indexes, rebuilt from st after a snapshot restore
	byEmail       map[string]string // normalised email → user id
	bySSO         map[string]string // issuer \x00 subject → user id
	tokenByHash   map[string]string // secret hash → token id
	sessionByHash map[string]string // current or rotated refresh hash → session id
	invByHash     map[string]string // secret hash → invitation id
	// lastUsed is when each API token was last used: not an event (one per request would swamp
	// the log); flushed to the read model by Service.FlushLastUsed.
	lastUsed  map[string]time.Time
	unflushed map[string]time.Time
}

// directoryState is what a snapshot of the directory holds.
type directoryState struct {
	Users       map[string]*domain.User
	Teams       map[string]*domain.Team
	Roles       map[string]*domain.Role // custom roles by name
	Tokens      map[string]*domain.APIToken
	Sessions    map[string]*domain.Session
	Invitations map[string]*domain.Invitation
}

func newDirectory() *directory {
	d := &directory{st: directoryState{Users: map[string]*domain.User{}, Teams: map[string]*domain.Team{},
		Roles: map[string]*domain.Role{}, Tokens: map[string]*domain.APIToken{}, Sessions: map[string]*domain.Session{},
		Invitations: map[string]*domain.Invitation{}},
		lastUsed: map[string]time.Time{}, unflushed: map[string]time.Time{}}
	d.reindex()
	return d
}

// reindex rebuilds the derived indexes from st. Callers hold mu.
func (d *directory) reindex() {
	d.byEmail, d.bySSO = map[string]string{}, map[string]string{}
	d.tokenByHash, d.sessionByHash, d.invByHash = map[string]string{}, map[string]string{}, map[string]string{}
	for _, u := range d.st.Users {
		d.indexUser(u)
	}
	for _, t := range d.st.Tokens {
		d.tokenByHash[t.SecretHash] = t.ID
	}
	for _, s := range d.st.Sessions {
		d.indexSession(s)
	}
	for _, i := range d.st.Invitations {
		d.invByHash[i.SecretHash] = i.ID
	}
}

func (d *directory) indexUser(u *domain.User) {
	d.byEmail[u.Email] = u.ID
	if u.SSOSubject != "" {
		d.bySSO[u.SSOIssuer+"\x00"+u.SSOSubject] = u.ID
	}
}

func (d *directory) indexSession(s *domain.Session) {
	d.sessionByHash[s.RefreshHash] = s.ID
	for _, h := range s.Rotated {
		d.sessionByHash[h] = s.ID
	}
}

// applyBatch applies the identity events of batch after the cursor. Callers hold mu.
func (d *directory) applyBatch(batch []events.Envelope) error {
	for i := range batch {
		e := &batch[i]
		if e.GlobalPosition <= d.cursor.Position {
			continue
		}
		if err := d.apply(e); err != nil {
			return err
		}
		d.cursor = snapshot.Mark{Position: e.GlobalPosition, EventID: e.EventID}
	}
	return nil
}

// find returns m's aggregate under key, created when new.
func find[A any](m map[string]*A, key string) *A {
	a := m[key]
	if a == nil {
		a = new(A)
		m[key] = a
	}
	return a
}

func (d *directory) apply(e *events.Envelope) error {
	id := e.StreamID
	if !strings.HasPrefix(id, "identity-") {
		return nil
	}
	var err error
	switch {
	case domain.IsUserID(id):
		var u *domain.User
		if u, err = applyTo(d.st.Users, e); u != nil {
			d.indexUser(u)
		}
	case domain.IsTeamID(id):
		_, err = applyTo(d.st.Teams, e)
	case domain.IsTokenID(id):
		var t *domain.APIToken
		if t, err = applyTo(d.st.Tokens, e); t != nil {
			d.tokenByHash[t.SecretHash] = t.ID
		}
	case domain.IsSessionID(id):
		var ss *domain.Session
		if ss, err = applyTo(d.st.Sessions, e); ss != nil {
			d.indexSession(ss)
		}
	case domain.IsInvitationID(id):
		var i *domain.Invitation
		if i, err = applyTo(d.st.Invitations, e); i != nil {
			d.invByHash[i.SecretHash] = i.ID
		}
	case strings.HasPrefix(id, "identity-role-"):
		var r domain.Role
		if err = r.Apply(e); err == nil && r.Name != "" {
			d.st.Roles[r.Name] = &r
		}
	}
	return err
}

// applyTo applies e to the aggregate of its stream in m (created when new) and returns it; nil
// when the aggregate has applied e already (an own append met again in $all).
func applyTo[T any, P interface {
	*T
	Apply(e *events.Envelope) error
	StreamVersion() int64
}](m map[string]*T, e *events.Envelope) (P, error) {
	agg := P(find(m, e.StreamID))
	if e.Version <= agg.StreamVersion() {
		return nil, nil
	}
	return agg, agg.Apply(e)
}

// permissions is the union of roles' permissions, sorted: built-in roles from schemas/access,
// custom roles as last defined; an unknown role grants nothing. Callers hold mu.
func (d *directory) permissions(roles []string) []access.Permission {
	var perms []access.Permission
	for _, r := range roles {
		if p, ok := access.RolePermissions(r); ok {
			perms = append(perms, p...)
		} else if c := d.st.Roles[r]; c != nil {
			perms = append(perms, c.Permissions...)
		}
	}
	slices.Sort(perms)
	return slices.Compact(perms)
}

// roleExists reports whether role is built-in or defined. Callers hold mu.
func (d *directory) roleExists(role string) bool {
	_, builtin := access.RolePermissions(role)
	return builtin || d.st.Roles[role] != nil
}

// teamNamed is the team of that name, the first created when several share it (team ids are
// time-ordered UUIDv7s); nil when none. Callers hold mu.
func (d *directory) teamNamed(name string) *domain.Team {
	var found *domain.Team
	for _, t := range d.st.Teams {
		if t.Name == name && (found == nil || t.ID < found.ID) {
			found = t
		}
	}
	return found
}

// teamsOf lists the teams user belongs to, sorted. Callers hold mu.
func (d *directory) teamsOf(user string) []string {
	teams := []string{}
	for id, t := range d.st.Teams {
		if t.Has(user) {
			teams = append(teams, id)
		}
	}
	slices.Sort(teams)
	return teams
}

// teamNamesOf lists the names of the teams user belongs to, sorted: what a principal's Teams
// hold, because an asset names its owner team by name (owner_team). Callers hold mu.
func (d *directory) teamNamesOf(user string) []string {
	names := []string{}
	for _, t := range d.st.Teams {
		if t.Has(user) {
			names = append(names, t.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// teamRef finds a team by its id or by its name; nil when neither. Callers hold mu.
func (d *directory) teamRef(ref string) *domain.Team {
	if t := d.st.Teams[ref]; t != nil {
		return t
	}
	return d.teamNamed(ref)
}

// activeAdmins counts the active users holding admin. Callers hold mu.
func (d *directory) activeAdmins() int {
	n := 0
	for _, u := range d.st.Users {
		if u.Active() && u.HasRole(access.RoleAdmin) {
			n++
		}
	}
	return n
}

// lastAdmin reports whether user is the only active admin. Callers hold mu.
func (d *directory) lastAdmin(user string) bool {
	u := d.st.Users[user]
	return u != nil && u.Active() && u.HasRole(access.RoleAdmin) && d.activeAdmins() == 1
}

// principal is the user's principal (without a session). Callers hold mu.
func (d *directory) principal(u *domain.User) access.Principal {
	return access.Principal{Kind: access.KindUser, ID: u.ID, Name: u.Email, Roles: slices.Clone(u.Roles),
		Perms: d.permissions(u.Roles), Teams: d.teamNamesOf(u.ID)}
}
