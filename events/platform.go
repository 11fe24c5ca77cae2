package events

import (
	"encoding/json"
	"fmt"

	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/contracts"
)

// upcast names one upcaster of the platform's event types: typ's data from version from to from+1.
type upcast struct {
	typ  string
	from int
	up   Upcaster
}

// platformUpcasters are the upcasters of the platform's published event schemas. A schema
// version that only adds optional fields upcasts by keeping the data: every v<N> payload is a
// valid v<N+1> payload, and the added fields are absent (not zero) in events written before.
var platformUpcasters = []upcast{
	{contracts.TypeFindingOpened, 1, addsOptionalFields},       // v2: locations
	{contracts.TypeScanImportCompleted, 1, addsOptionalFields}, // v2: parsed, stored, suppressed, … counts
	{contracts.TypeApiTokenIssued, 1, widensEnums},             // v2: scopes among every permission (analytics:read, reports:*)
	{contracts.TypeRoleDefined, 1, widensEnums},                // v2: permissions among every permission
}

// addsOptionalFields is the upcaster of a version that only adds optional fields.
func addsOptionalFields(data json.RawMessage) (json.RawMessage, error) { return data, nil }

// widensEnums is the upcaster of a version whose enums accept more values and that changes
// nothing else: every v<N> value is still one of v<N+1>'s, so the data stays as it is.
var widensEnums Upcaster = addsOptionalFields

// PlatformRegistry is the registry of the platform's events: every schema embedded in package
// schemas and the upcasters between their versions. It fails when a type has a version that
// cannot be reached by upcasting, so a binary never starts with unreadable events.
func PlatformRegistry() (*Registry, error) {
	r, err := LoadRegistry(schemas.EventsFS(), "events")
	if err != nil {
		return nil, fmt.Errorf("loading event schemas: %w", err)
	}
	for _, u := range platformUpcasters {
		if err := r.RegisterUpcaster(u.typ, u.from, u.up); err != nil {
			return nil, err
		}
	}
	if err := r.CheckComplete(); err != nil {
		return nil, err
	}
	return r, nil
}
