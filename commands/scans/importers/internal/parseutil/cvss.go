package parseutil

import "strings"

// CVSSVersion is the model's version ("2.0", "3.0", "3.1", "4.0") of a rating a report gives as
// a version word ("3.1", "V3", "CVSS_V2", "2") and a vector: a vector's own "CVSS:x.y/" prefix
// wins, since scanners label v3.0 and v3.1 vectors alike. ok is false when neither says which
// version it is (a "3" with a vector lacking the prefix cannot tell 3.0 from 3.1).
func CVSSVersion(version, vector string) (string, bool) {
	if v := VectorVersion(vector); v != "" {
		return v, true
	}
	v := strings.ToUpper(strings.TrimSpace(version))
	v = strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(v, "CVSS"), "_"), "V")
	switch {
	case v == "2" || v == "2.0":
		return "2.0", true
	case vector != "":
		return "", false // a v3/v4 vector without its prefix: the version is unknown
	case v == "3.0" || v == "3.1" || v == "4.0":
		return v, true
	}
	return "", false
}
