package parseutil

import (
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// ParseMACs reads one or more MAC addresses (newline, comma, semicolon or space separated; ':',
// '-' or '.' grouped) into upper-case colon-separated form, dropping what is not a 48-bit MAC.
func ParseMACs(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' || r == ';' }) {
		hex := strings.NewReplacer(":", "", "-", "", ".", "").Replace(f)
		if len(hex) != 12 {
			continue
		}
		if _, err := strconv.ParseUint(hex, 16, 64); err != nil {
			continue
		}
		hex = strings.ToUpper(hex)
		out = append(out, hex[0:2]+":"+hex[2:4]+":"+hex[4:6]+":"+hex[6:8]+":"+hex[8:10]+":"+hex[10:12])
	}
	return out
}

// AddHostname adds h unless a case-insensitive equal name is present (at most MaxList names).
func AddHostname(list []string, h string) []string {
	h = strings.TrimSpace(h)
	if h == "" || len(list) >= MaxList {
		return list
	}
	for _, have := range list {
		if strings.EqualFold(have, h) {
			return list
		}
	}
	return append(list, h)
}

// AddService records an open port once (at most MaxList). A later, more specific service name
// replaces an empty, "general" or "unknown" one.
func AddService(list []importers.Service, port int, proto, name string) []importers.Service {
	for i := range list {
		if list[i].Port == port && list[i].Protocol == proto {
			if (list[i].Name == "" || list[i].Name == "general" || list[i].Name == "unknown") && name != "" {
				list[i].Name = name
			}
			return list
		}
	}
	if len(list) >= MaxList {
		return list
	}
	return append(list, importers.Service{Port: port, Protocol: proto, State: "open", Name: name})
}

// FirstNonEmpty returns the first value that is not blank, trimmed.
func FirstNonEmpty(v ...string) string {
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
