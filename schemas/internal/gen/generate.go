package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"go/format"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// schema is the part of a JSON Schema the generator reads; validation keywords (bounds,
// patterns, formats other than date-time) stay the validator's business.
type schema struct {
	Title                string     `json:"title"`
	Description          string     `json:"description"`
	Type                 any        `json:"type"`
	Format               string     `json:"format"`
	Enum                 []string   `json:"enum"`
	Required             []string   `json:"required"`
	Properties           properties `json:"properties"`
	Items                *schema    `json:"items"`
	AdditionalProperties any        `json:"additionalProperties"`
	MinProperties        int        `json:"minProperties"`
	// Ref points at a shared definition: "defs.json#/$defs/<Name>", relative to the schema's file.
	Ref string `json:"$ref"`
	// Defs are a defs.json file's shared definitions, each one Go type named after its key.
	Defs map[string]*schema `json:"$defs"`
	// GoType names the Go type a definition's data decodes into when another schema declares the
	// same data under other validation (a command's input checked more strictly than the event
	// recording it): the definition's fields must be exactly that type's, and its name an alias.
	GoType string `json:"x-go-type"`
	// CommandType marks a command sent through the command bus (by a saga) rather than posted
	// to an endpoint: the type string the bus routes on.
	CommandType string `json:"x-command-type"`
}

// properties keeps the order in which a schema lists its properties: the generated fields
// follow it, as the hand-written payload structs did, so their events' bytes do not change.
type properties struct {
	names  []string
	byName map[string]*schema
}

func (p *properties) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	p.byName = map[string]*schema{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var sub schema
		if err := dec.Decode(&sub); err != nil {
			return err
		}
		name := t.(string)
		p.names = append(p.names, name)
		p.byName[name] = &sub
	}
	return nil
}

// MarshalJSON writes the properties back in their order (the canonical form objectNames compares).
func (p properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range p.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(p.byName[n])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (s *schema) typ() string {
	if t, ok := s.Type.(string); ok {
		return t
	}
	if len(s.Enum) > 0 {
		return "string" // an enum without a type (SLABreached.severity) lists strings only
	}
	return ""
}

// enumNames names the enumerations whose property name alone would be ambiguous or vague,
// keyed by "<schema title>/<property path>". Two different value lists under one Go name fail
// the generation, so a new clash is noticed and named here.
var enumNames = map[string]string{
	"FindingOpened/cvss/severity":                 "CVSSSeverity",
	"CVERating/version":                           "CVSSVersion",
	"AssetRegistered/kind":                        "AssetKind",
	"AssetRegisteredWeakly/kind":                  "AssetKind",
	"AssetLink/relation":                          "AssetRelation",
	"ScanRequested/trigger":                       "ScanTrigger",
	"ScanImportFailed/stage":                      "ImportStage",
	"CVEListedInKEV/source":                       "KEVSource",
	"NodeStarted/event_store":                     "EventStoreBackend",
	"NodeStarted/log":                             "LogBackend",
	"NotificationDeferred/reason":                 "DeferralReason",
	"NotificationSuppressed/reason":               "SuppressionReason",
	"FindingSeen/previous_severity":               "Severity",
	"NotificationRequested/digest_items/severity": "Severity",
	"UserRegistered/source":                       "UserSource",
	"SessionStarted/source":                       "SessionSource",
	"UserPasswordChanged/reason":                  "PasswordChangeReason",
	"SessionRevoked/reason":                       "SessionRevocationReason",
	"NotificationPreferencesSet/channels":         "PreferenceChannel",
	"SetNotificationPreferences/channels":         "PreferenceChannel",
	"DefineRole/permissions":                      "PermissionV2",
	"IssueApiToken/scopes":                        "PermissionV2",
	"ReportPeriod/kind":                           "ReportPeriodKind",
	"ReportPeriod/bucket":                         "ReportBucket",
	"ReportPeriodInput/kind":                      "ReportPeriodKind",
	"ReportPeriodInput/bucket":                    "ReportBucket",
	"ReportRequested/format":                      "ReportFormat",
	"RequestReport/format":                        "ReportFormat",
	"ReportScheduleSaved/format":                  "ReportFormat",
	"SaveReportSchedule/format":                   "ReportFormat",
	"ReportScheduleSaved/delivery":                "ReportDelivery",
	"SaveReportSchedule/delivery":                 "ReportDelivery",
	"ReportDelivered/deliveries/mode":             "ReportDelivery",
	"ReportDelivered/deliveries/channel":          "ReportDeliveryChannel",
	"ReportRecipients/channels":                   "ReportChatChannel",
	"ReportRecipientsInput/channels":              "ReportChatChannel",
}

// alwaysWritten lists optional properties, keyed like enumNames, whose Go field has no omitempty:
// the events recorded so far carry them even when empty (FindingDueDateSet's "reason": "" from a
// hand-set due date), and the generated struct keeps writing what they wrote.
var alwaysWritten = map[string]bool{
	"FindingDueDateSet/reason": true,
}

// changeSets names the command payloads whose absent fields mean "leave as is" although their
// schema does not say so with minProperties (an empty body is a valid no-op there): every field
// is a pointer, so that "owner_team": "" (clear) differs from no owner_team (keep).
var changeSets = map[string]bool{
	"UpdateAsset":   true,
	"ClassifyAsset": true,
}

// embeds names, by schema file, the payloads that carry another payload of their context whole,
// as the first of their fields: the Go type embeds that payload instead of declaring its fields
// again (a created scan definition is the full definition an update records, plus the push
// token's hash; a later version that only adds fields is the earlier one, plus them).
// encoding/json writes an embedded struct's fields in place, so the bytes stay those of the
// schema's order; the generation fails unless the fields agree.
var embeds = map[string]string{
	"events/scans/ScanDefinitionCreated.v1.json": "events/scans/ScanDefinitionUpdated.v1.json",
	"events/scans/ScanImportCompleted.v2.json":   "events/scans/ScanImportCompleted.v1.json",
}

type enumDecl struct {
	name, desc string
	values     []string
}

type field struct {
	goName, jsonName, goType, tag, desc string
}

type structDecl struct {
	name, desc string
	fields     []field
	// underlying, when set, makes the declaration "type <name> <underlying>": a payload whose
	// whole schema is a shared definition has that definition's fields under its own name.
	underlying string
	// alias, when set, makes the declaration "type <name> = <alias>" (x-go-type); fields are
	// then what the alias must hold, checked by sameFields.
	alias string
	// embedded, when set, is the struct (see embeds) whose fields come first: the declaration
	// embeds it, and fields are the rest.
	embedded string
}

type eventDecl struct {
	typeName, goName string
	version          int
}

type busCommandDecl struct {
	goName, typ string
}

type fileDecls struct {
	events   []eventDecl
	commands []busCommandDecl
	structs  []structDecl
}

type generator struct {
	enums map[string]*enumDecl
	files map[string]*fileDecls // by context
	names map[string]string     // Go type name → the schema that declared it
	paid  map[string]string     // schema file → the Go name of its payload
	defs  map[string]*schema    // "<dir>/defs.json#/$defs/<Name>" → the shared definition
}

func newGenerator() *generator {
	return &generator{enums: map[string]*enumDecl{}, files: map[string]*fileDecls{}, names: map[string]string{}, paid: map[string]string{}, defs: map[string]*schema{}}
}

var eventFile = regexp.MustCompile(`^events/([a-z]+)/([A-Z][A-Za-z0-9]*)\.v([0-9]+)\.json$`)
var commandFile = regexp.MustCompile(`^commands/([a-z]+)/([A-Z][A-Za-z0-9]*)\.json$`)
var enumFile = regexp.MustCompile(`^enums/([A-Z][A-Za-z0-9]*)\.json$`)
var defsFile = regexp.MustCompile(`^(?:events|commands)/([a-z]+)/defs(?:\.v([1-9][0-9]*))?\.json$`)

// defName is the Go name of the definition n of the defs file p: one of defs.v<N>.json (N > 1)
// takes the suffix V<N>, as the payload of <Type>.v<N>.json does, so that a definition declared
// again in a later defs file (a widened enum) is a type of its own beside the published one.
func defName(p, n string) string {
	if m := defsFile.FindStringSubmatch(p); m != nil && m[2] != "" && m[2] != "1" {
		return n + "V" + m[2]
	}
	return n
}

// generate returns the generated package's files by name.
func generate(fsys fs.FS) (map[string][]byte, error) {
	g := newGenerator()
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && path.Ext(p) == ".json" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	parsed := map[string]*schema{}
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		var s schema
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		parsed[p] = &s
		for name, d := range s.Defs {
			g.defs[p+"#/$defs/"+name] = d
		}
	}
	// Each shared definition is one type, declared ahead of the payloads of its context.
	for _, p := range paths {
		m := defsFile.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		for _, n := range slices.Sorted(maps.Keys(parsed[p].Defs)) {
			d := parsed[p].Defs[n]
			intro := fmt.Sprintf("is the shared definition %s#/$defs/%s.", p, n)
			switch {
			case d.typ() == "string" && len(d.Enum) > 0:
				if _, err := g.enum(defName(p, n), intro+" "+d.Description, d.Enum, p); err != nil {
					return nil, err
				}
				continue
			case d.typ() != "object" || len(d.Properties.names) == 0:
				return nil, fmt.Errorf("%s: $defs/%s: a shared definition is an object with properties or a string enum", p, n)
			}
			if err := g.object(m[1], defName(p, n), intro, n, "", d, p); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range paths {
		s := *parsed[p]
		switch {
		case eventFile.MatchString(p):
			m := eventFile.FindStringSubmatch(p)
			v, _ := strconv.Atoi(m[3])
			if s.Title != m[2] {
				return nil, fmt.Errorf("%s: title %q is not the file's type name", p, s.Title)
			}
			goName := m[2]
			if v > 1 {
				goName += "V" + m[3]
			}
			fd := g.file(m[1])
			fd.events = append(fd.events, eventDecl{typeName: m[2], goName: goName, version: v})
			if err := g.object(m[1], goName, fmt.Sprintf("is the payload of %s (%s).", m[2], p), m[2], "", &s, p); err != nil {
				return nil, err
			}
		case commandFile.MatchString(p):
			m := commandFile.FindStringSubmatch(p)
			if s.Title != m[2] {
				return nil, fmt.Errorf("%s: title %q is not the file's command name", p, s.Title)
			}
			if err := g.object(m[1], m[2], fmt.Sprintf("is the payload of %s (%s).", m[2], p), m[2], "", &s, p); err != nil {
				return nil, err
			}
			if s.CommandType != "" {
				if !strings.HasPrefix(s.CommandType, m[1]+".") {
					return nil, fmt.Errorf("%s: command type %q is not of the %s context", p, s.CommandType, m[1])
				}
				if err := g.claim("Cmd"+m[2], p); err != nil {
					return nil, err
				}
				fd := g.file(m[1])
				fd.commands = append(fd.commands, busCommandDecl{goName: "Cmd" + m[2], typ: s.CommandType})
			}
		case enumFile.MatchString(p):
			m := enumFile.FindStringSubmatch(p)
			if s.typ() != "string" || len(s.Enum) == 0 {
				return nil, fmt.Errorf("%s: an enum file holds a string enum", p)
			}
			if _, err := g.enum(m[1], fmt.Sprintf("is declared by %s. %s", p, s.Description), s.Enum, p); err != nil {
				return nil, err
			}
		case defsFile.MatchString(p), path.Base(p) == "asyncapi.json":
		default:
			return nil, fmt.Errorf("%s: not where an event, command or enum schema belongs", p)
		}
	}
	if err := g.sameFields(); err != nil {
		return nil, err
	}
	if err := g.embed(); err != nil {
		return nil, err
	}
	g.commandsAsEvents()
	return g.render()
}

func (g *generator) file(ctx string) *fileDecls {
	if g.files[ctx] == nil {
		g.files[ctx] = &fileDecls{}
	}
	return g.files[ctx]
}

func (g *generator) claim(name, by string) error {
	if prev, ok := g.names[name]; ok {
		return fmt.Errorf("%s: Go type %s is declared by %s already", by, name, prev)
	}
	g.names[name] = by
	return nil
}

func (g *generator) enum(name, desc string, values []string, by string) (string, error) {
	if e, ok := g.enums[name]; ok {
		if !slices.Equal(e.values, values) {
			return "", fmt.Errorf("%s: enum %s is %v here and %v elsewhere: name it in enumNames", by, name, values, e.values)
		}
		return name, nil
	}
	if err := g.claim(name, by); err != nil {
		return "", err
	}
	g.enums[name] = &enumDecl{name: name, desc: desc, values: slices.Clone(values)}
	return name, nil
}

// object declares the struct goName for s, introduced by intro. title and propPath locate s
// for enumNames.
func (g *generator) object(ctx, goName, intro, title, propPath string, s *schema, file string) error {
	if err := g.claim(goName, file); err != nil {
		return err
	}
	sd := structDecl{name: goName, desc: intro + " " + s.Description}
	if propPath == "" && !defsFile.MatchString(file) {
		g.paid[file] = goName
	}
	if s.Ref != "" {
		if len(s.Properties.names) > 0 {
			return fmt.Errorf("%s: %s has both $ref and properties", file, title)
		}
		name, _, err := g.ref(file, s.Ref)
		if err != nil {
			return err
		}
		sd.underlying = name
		g.file(ctx).structs = append(g.file(ctx).structs, sd)
		return nil
	}
	// A payload that requires nothing but at least one property is a change set: which fields
	// are present is what it says ("owner_team": "" clears the owner), so every field is a pointer.
	// A shared definition is a part of payloads, never a payload itself.
	patch := propPath == "" && !defsFile.MatchString(file) && len(s.Required) == 0 && (s.MinProperties > 0 || changeSets[title])
	for _, k := range s.Properties.names {
		p := s.Properties.byName[k]
		if p.Ref != "" {
			// A shared definition decides the field's kind (pointer or not) as if written here.
			_, def, err := g.ref(file, p.Ref)
			if err != nil {
				return err
			}
			p = &schema{Type: def.Type, Enum: def.Enum, Format: def.Format, Properties: def.Properties, Ref: p.Ref, Description: cmp.Or(p.Description, def.Description)}
		}
		required := slices.Contains(s.Required, k)
		sub := k
		if propPath != "" {
			sub = propPath + "/" + k
		}
		t, err := g.goType(ctx, goName+pascal(k), title, sub, p, file)
		if err != nil {
			return err
		}
		tag := k
		switch {
		case required, alwaysWritten[title+"/"+sub]:
		case patch:
			t = "*" + t
			tag += ",omitempty"
		case p.typ() == "string" && p.Format == "date-time":
			tag += ",omitzero"
		case p.typ() == "boolean" || p.typ() == "number" || p.typ() == "integer" || p.typ() == "object" && len(p.Properties.names) > 0:
			t = "*" + t
			tag += ",omitempty"
		default:
			tag += ",omitempty"
		}
		sd.fields = append(sd.fields, field{goName: pascal(k), jsonName: k, goType: t, tag: tag, desc: p.Description})
	}
	sd.alias = s.GoType
	g.file(ctx).structs = append(g.file(ctx).structs, sd)
	return nil
}

// structs returns every declared struct by name.
func (g *generator) structs() map[string]structDecl {
	structs := map[string]structDecl{}
	for _, fd := range g.files {
		for _, sd := range fd.structs {
			structs[sd.name] = sd
		}
	}
	return structs
}

// plainStruct returns the struct name declares with fields of its own: neither an alias nor a
// type of another's fields.
func plainStruct(structs map[string]structDecl, name string) (structDecl, bool) {
	sd, ok := structs[name]
	return sd, ok && sd.alias == "" && sd.underlying == "" && sd.embedded == ""
}

// sameField reports whether two fields are one: name, Go type and JSON tag.
func sameField(a, b field) bool {
	return a.goName == b.goName && a.goType == b.goType && a.tag == b.tag
}

// sameFields fails unless every x-go-type alias names a generated struct with exactly the fields
// (names, types, JSON tags) its own schema would have given it: the data is the same, or the
// alias would decode it wrongly.
func (g *generator) sameFields() error {
	structs := g.structs()
	for _, fd := range g.files {
		for _, sd := range fd.structs {
			if sd.alias == "" {
				continue
			}
			to, ok := plainStruct(structs, sd.alias)
			if !ok {
				return fmt.Errorf("%s: x-go-type %s is no generated struct", sd.name, sd.alias)
			}
			if !slices.EqualFunc(sd.fields, to.fields, sameField) {
				return fmt.Errorf("%s: x-go-type %s: the fields differ", sd.name, sd.alias)
			}
		}
	}
	return nil
}

// sameData reports whether two field lists declare the same data: names, JSON tags and Go types,
// an alias field type counting as the type it names.
func sameData(structs map[string]structDecl, a, b []field) bool {
	resolve := func(f field) field {
		if to, ok := structs[strings.TrimPrefix(f.goType, "*")]; ok && to.alias != "" {
			f.goType = strings.Replace(f.goType, to.name, to.alias, 1)
		}
		return f
	}
	return slices.EqualFunc(a, b, func(x, y field) bool { return sameField(resolve(x), resolve(y)) })
}

// commandsAsEvents declares a command payload whose fields are exactly those of an event payload
// of its context (the command asks for the change the event records, as ClassifyAsset and
// AssetClassified) as a type of that event's fields, instead of declaring them again. A payload
// of one field stays a struct of its own: its declaration says more than the reference would.
func (g *generator) commandsAsEvents() {
	structs := g.structs()
	for _, cmdFile := range slices.Sorted(maps.Keys(g.paid)) {
		m := commandFile.FindStringSubmatch(cmdFile)
		cmd, ok := plainStruct(structs, g.paid[cmdFile])
		if m == nil || !ok || len(cmd.fields) < 2 {
			continue
		}
		for _, evFile := range slices.Sorted(maps.Keys(g.paid)) {
			e := eventFile.FindStringSubmatch(evFile)
			ev, ok := plainStruct(structs, g.paid[evFile])
			if e == nil || e[1] != m[1] || !ok || !sameData(structs, cmd.fields, ev.fields) {
				continue
			}
			fd := g.files[m[1]]
			i := slices.IndexFunc(fd.structs, func(s structDecl) bool { return s.name == cmd.name })
			fd.structs[i].underlying, fd.structs[i].fields = ev.name, nil
			fd.structs[i].desc += fmt.Sprintf(" It has the fields of %s.", ev.name)
			break
		}
	}
}

// embed makes each payload named in embeds embed its payload of the same context, whose fields
// must be exactly its first ones (an alias field type counts as the type it names).
func (g *generator) embed() error {
	structs := g.structs()
	embedding := map[string]string{}
	for file, base := range embeds {
		name, ok := g.paid[file]
		if !ok {
			continue // not among the schemas generated from (a test's)
		}
		if g.paid[base] == "" {
			return fmt.Errorf("%s embeds %s, which is no payload schema", file, base)
		}
		embedding[name] = g.paid[base]
	}
	for ctx, fd := range g.files {
		for i, sd := range fd.structs {
			name, ok := embedding[sd.name]
			if !ok {
				continue
			}
			base, ok := plainStruct(structs, name)
			if !ok || !slices.ContainsFunc(fd.structs, func(s structDecl) bool { return s.name == name }) {
				return fmt.Errorf("%s: embeds %s, no struct of the %s context", sd.name, name, ctx)
			}
			n := len(base.fields)
			if n >= len(sd.fields) || !sameData(structs, sd.fields[:n], base.fields) {
				return fmt.Errorf("%s: embeds %s, whose fields are not its first ones", sd.name, name)
			}
			fd.structs[i].embedded, fd.structs[i].fields = name, sd.fields[n:]
		}
	}
	return nil
}

// ref returns the Go type name and the schema of the shared definition ref (relative to file).
func (g *generator) ref(file, ref string) (string, *schema, error) {
	doc, frag, _ := strings.Cut(ref, "#")
	name, ok := strings.CutPrefix(frag, "/$defs/")
	defs := path.Join(path.Dir(file), doc)
	if !defsFile.MatchString(defs) || !ok {
		return "", nil, fmt.Errorf("%s: $ref %q: only a defs.json's (or defs.v<N>.json's) $defs can be referred to", file, ref)
	}
	d := g.defs[defs+"#"+frag]
	if d == nil {
		return "", nil, fmt.Errorf("%s: $ref %q: no such definition", file, ref)
	}
	return defName(defs, name), d, nil
}

func (g *generator) goType(ctx, nested, title, propPath string, p *schema, file string) (string, error) {
	if p.Ref != "" {
		name, _, err := g.ref(file, p.Ref)
		return name, err
	}
	switch p.typ() {
	case "string":
		if len(p.Enum) > 0 {
			name := enumNames[title+"/"+propPath]
			if name == "" {
				name = pascal(path.Base(propPath))
			}
			return g.enum(name, fmt.Sprintf("is the vocabulary of %s/%s (%s), first declared there.", title, propPath, file), p.Enum, file)
		}
		if p.Format == "date-time" {
			return "time.Time", nil
		}
		return "string", nil
	case "integer":
		return "int", nil
	case "number":
		return "float64", nil
	case "boolean":
		return "bool", nil
	case "array":
		if p.Items == nil {
			return "[]any", nil
		}
		// An array beside an object property of its singular name ("locations" beside
		// "location", declared first) names its items' type with an Item suffix instead.
		item := singular(nested)
		if _, taken := g.names[item]; taken {
			item = nested + "Item"
		}
		t, err := g.goType(ctx, item, title, propPath, p.Items, file)
		if err != nil {
			return "", err
		}
		return "[]" + t, nil
	case "object":
		if len(p.Properties.names) > 0 {
			return nested, g.object(ctx, nested, fmt.Sprintf("is %s/%s of %s.", title, propPath, file), title, propPath, p, file)
		}
		if a, ok := p.AdditionalProperties.(map[string]any); ok && a["type"] == "integer" {
			return "map[string]int", nil
		}
		return "map[string]any", nil
	case "":
		if p.Properties.names == nil && p.Items == nil {
			return "json.RawMessage", nil // any JSON value, kept as written
		}
	}
	return "", fmt.Errorf("%s: %s: no Go type for schema type %v", file, propPath, p.Type)
}

func (g *generator) render() (map[string][]byte, error) {
	out := map[string][]byte{}
	ctxs := make([]string, 0, len(g.files))
	for c := range g.files {
		ctxs = append(ctxs, c)
	}
	slices.Sort(ctxs)
	for _, c := range ctxs {
		fd := g.files[c]
		var b bytes.Buffer
		header(&b)
		if len(fd.events) > 0 {
			fmt.Fprintf(&b, "// Event types of the %s context, as they appear in an envelope's type.\nconst (\n", c)
			for _, e := range fd.events {
				if e.version == 1 {
					fmt.Fprintf(&b, "Type%s = %q\n", e.typeName, e.typeName)
				}
			}
			b.WriteString(")\n\n")
		}
		if len(fd.commands) > 0 {
			fmt.Fprintf(&b, "// Command types of the %s context sent through the command bus (by sagas), as the bus\n// routes them; each one's payload is the struct of the same name without Cmd.\nconst (\n", c)
			for _, cmd := range fd.commands {
				fmt.Fprintf(&b, "%s = %q\n", cmd.goName, cmd.typ)
			}
			b.WriteString(")\n\n")
		}
		for _, s := range fd.structs {
			comment(&b, s.name, s.desc)
			if s.underlying != "" {
				fmt.Fprintf(&b, "type %s %s\n\n", s.name, s.underlying)
				continue
			}
			if s.alias != "" {
				fmt.Fprintf(&b, "type %s = %s\n\n", s.name, s.alias)
				continue
			}
			fmt.Fprintf(&b, "type %s struct {\n", s.name)
			if s.embedded != "" {
				comment(&b, "", fmt.Sprintf("The fields of %s come first, as the schema lists them.", s.embedded))
				fmt.Fprintf(&b, "%s\n", s.embedded)
			}
			for _, f := range s.fields {
				if f.desc != "" {
					comment(&b, "", f.desc)
				}
				fmt.Fprintf(&b, "%s %s `json:%q`\n", f.goName, f.goType, f.tag)
			}
			b.WriteString("}\n\n")
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", c, err, b.Bytes())
		}
		var imports []string
		for _, imp := range []struct{ use, path string }{{"json.RawMessage", "encoding/json"}, {"time.Time", "time"}} {
			if bytes.Contains(src, []byte(imp.use)) {
				imports = append(imports, strconv.Quote(imp.path))
			}
		}
		if len(imports) > 0 {
			decl := "package contracts\n\nimport (\n" + strings.Join(imports, "\n") + "\n)\n"
			src = bytes.Replace(src, []byte("package contracts\n"), []byte(decl), 1)
			if src, err = format.Source(src); err != nil {
				return nil, err
			}
		}
		out["zz_"+c+".go"] = src
	}
	names := make([]string, 0, len(g.enums))
	for n := range g.enums {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	header(&b)
	for _, n := range names {
		e := g.enums[n]
		comment(&b, n, e.desc)
		fmt.Fprintf(&b, "type %s string\n\nconst (\n", n)
		for _, v := range e.values {
			fmt.Fprintf(&b, "%s%s %s = %q\n", n, pascal(v), n, v)
		}
		// values is hand-written in package contracts (enums.go): each value stands once, in its
		// constant, and the list follows the constants.
		fmt.Fprintf(&b, ")\n\n// %sValues lists every %s in the schema's order.\nfunc %sValues() []string {\nreturn values(", n, n, n)
		for i, v := range e.values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + pascal(v))
		}
		b.WriteString(")\n}\n\n")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("enums: %w\n%s", err, b.Bytes())
	}
	out["zz_enums.go"] = src
	return out, nil
}

func header(b *bytes.Buffer) {
	b.WriteString("// Code generated by schemas/internal/gen from the JSON Schemas under schemas/. DO NOT EDIT.\n\npackage contracts\n\n")
}

func comment(b *bytes.Buffer, name, text string) {
	text = strings.TrimSpace(text)
	if name != "" {
		text = name + " " + text
	}
	if text == "" {
		return
	}
	for _, line := range wrap(text, 96) {
		fmt.Fprintf(b, "// %s\n", line)
	}
}

func wrap(text string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// initialisms are spelt in capitals in Go names, as Go's style asks.
var initialisms = map[string]string{
	"id": "ID", "ids": "IDs", "url": "URL", "urls": "URLs", "cve": "CVE", "cves": "CVEs", "cwe": "CWE",
	"cwes": "CWEs", "ghsa": "GHSA", "ghsas": "GHSAs", "ip": "IP", "ips": "IPs", "kev": "KEV", "epss": "EPSS",
	"cvss": "CVSS", "sla": "SLA", "mac": "MAC", "macs": "MACs", "vex": "VEX", "http": "HTTP", "api": "API",
	"uuid": "UUID", "json": "JSON", "ttl": "TTL", "nvd": "NVD", "tls": "TLS", "smtp": "SMTP", "sms": "SMS",
	"os": "OS", "html": "HTML", "purl": "PURL", "sha256": "SHA256", "cpe": "CPE", "cpes": "CPEs", "utc": "UTC", "uri": "URI",
}

// pascal turns a JSON name or an enum value into a Go identifier part: "in_remediation" →
// "InRemediation", "asset_id" → "AssetID", "3.1" → "3_1".
func pascal(s string) string {
	var b strings.Builder
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.')
	})
	for _, p := range parts {
		p = strings.ReplaceAll(p, ".", "_")
		if up, ok := initialisms[strings.ToLower(p)]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

// singular names an array's item type after the array: Ratings → Rating, DigestItems →
// DigestItem; a name that does not end in a plural s keeps an Item suffix.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && !strings.HasSuffix(s, "CVSS") && !strings.HasSuffix(s, "EPSS"):
		return s[:len(s)-1]
	}
	return s + "Item"
}
