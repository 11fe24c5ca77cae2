// Package query is the search box's language: what an analyst types into `q` (free text, quoted
// phrases, field operators such as cve:CVE-2021-44228, severity:critical, ip:10.0.0.0/8,
// -status:closed), parsed into a Query that every search backend answers the same way.
//
// # Grammar
//
//	query   = { ws } [ clause { ws+ clause } ] { ws }
//	clause  = [ "-" ] ( field ":" value | term )
//	value   = [ op ] ( word | phrase ) { "," ( word | phrase ) }    op: > >= < <= (numeric fields)
//	term    = word | phrase
//	phrase  = '"' { any character but '"', or \" } '"'
//	word    = one or more characters that are not whitespace, '"' or (after a field) ','
//
// Clauses are ANDed; a leading "-" negates a clause; a field's comma list matches any of its
// values. Field names are case-insensitive. A misspelt field or an unknown enumerated value is a
// *ParseError naming the position in q and, when one is close, the name meant ("did you mean").
// There are no boolean operators: AND is accepted and ignored, OR and NOT are errors suggesting
// the comma list or the "-" meant. Parse (parse.go) says which words with a colon stay free
// text (URLs, IPv6 addresses, Windows paths, …); Query.String renders a Query back as text.
package query

// Field is a field operator's name.
type Field string

// The fields. Their meaning over each kind of document is the contract in projections/search
// (search.Match is its reference implementation).
const (
	FieldText        Field = ""            // free text (no operator)
	FieldType        Field = "type"        // the document kind: finding, asset, cve, event
	FieldCVE         Field = "cve"         // CVE id, exact (case-insensitive)
	FieldCWE         Field = "cwe"         // CWE id, exact: "CWE-79" (a bare 79 means CWE-79)
	FieldSeverity    Field = "severity"    // critical, high, medium, low, info
	FieldStatus      Field = "status"      // a finding's or asset's status, exact
	FieldAsset       Field = "asset"       // an asset's name, id or one of its hostnames, exact (case-insensitive)
	FieldHost        Field = "host"        // a hostname, exact (case-insensitive)
	FieldIP          Field = "ip"          // an address or a CIDR range (IPv4 or IPv6)
	FieldPackage     Field = "package"     // a package name (see search.PackageNames), exact (case-insensitive)
	FieldKEV         Field = "kev"         // true or false
	FieldTeam        Field = "team"        // the owner team, exact
	FieldEnvironment Field = "environment" // the asset's environment, exact (alias env)
	FieldKind        Field = "kind"        // the asset's kind (host, container_image, …), exact
	FieldScanner     Field = "scanner"     // the finding's format (trivy, nessus, …), exact
	FieldTag         Field = "tag"         // one of the asset's tags, exact
	FieldCVSS        Field = "cvss"        // a number with an optional comparison: cvss:>=9
	FieldEPSS        Field = "epss"        // a number with an optional comparison: epss:>0.5
	FieldActor       Field = "actor"       // an audit event's actor, exact (user:…, token:…, system:…)
	FieldEvent       Field = "event"       // an audit event's type (FindingTriaged, …), exact (case-insensitive)
)

// Aliases maps other accepted spellings to a field.
var Aliases = map[string]Field{"env": FieldEnvironment, "pkg": FieldPackage, "hostname": FieldHost, "is": FieldType}

// Fields lists every field operator, for "did you mean" and the API's description.
var Fields = []Field{FieldType, FieldCVE, FieldCWE, FieldSeverity, FieldStatus, FieldAsset, FieldHost, FieldIP,
	FieldPackage, FieldKEV, FieldTeam, FieldEnvironment, FieldKind, FieldScanner, FieldTag, FieldCVSS, FieldEPSS,
	FieldActor, FieldEvent}

// Op is a numeric comparison ("" is equality).
type Op string

const (
	OpEq Op = ""
	OpGT Op = ">"
	OpGE Op = ">="
	OpLT Op = "<"
	OpLE Op = "<="
)

// Query is a parsed q: its clauses, ANDed. The zero Query (an empty q) matches every document.
type Query struct {
	Clauses []Clause
}

// Clause is one condition.
type Clause struct {
	Negate bool
	Field  Field // FieldText for free text
	// Values are the clause's alternatives (any matches), as typed (unquoted, unescaped);
	// normalised by the parser where the field defines a canonical form: CVE and CWE ids upper
	// case, severities, kev and type lower case, numbers as written.
	Values []string
	// Phrase marks free text written in quotes: its words must appear consecutively in one field.
	// An unquoted free-text word with inner punctuation (log4j-core) is also matched as the
	// phrase of its tokens (see search.Tokens).
	Phrase bool
	Op     Op  // numeric fields only
	Pos    int // byte offset of the clause in q (its "-" if negated)
}

// ParseError is a q the parser cannot read: Pos is the byte offset in q of the offending part,
// Suggestion the name or value probably meant ("" when none is close).
type ParseError struct {
	Pos        int
	Msg        string
	Suggestion string
}

func (e *ParseError) Error() string {
	s := e.Msg
	if e.Suggestion != "" {
		s += "; did you mean " + e.Suggestion + "?"
	}
	return s
}

// MaxLength bounds q in bytes; MaxClauses the clauses of one query; MaxValues a field's list.
const (
	MaxLength  = 1024
	MaxClauses = 32
	MaxValues  = 32
)
