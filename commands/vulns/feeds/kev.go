package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// KEVEntry is one entry of CISA's Known Exploited Vulnerabilities catalogue.
type KEVEntry struct {
	CVEID             string    `json:"cve_id"`
	VendorProject     string    `json:"vendor_project"`
	Product           string    `json:"product"`
	VulnerabilityName string    `json:"vulnerability_name"`
	DateAdded         time.Time `json:"date_added"` // midnight UTC
	DueDate           time.Time `json:"due_date"`   // midnight UTC
	ShortDescription  string    `json:"short_description"`
	RequiredAction    string    `json:"required_action"`
	// KnownRansomwareCampaignUse is "Known" or "Unknown" as the catalogue gives it; "" in old
	// catalogues without the field. Another value is kept and reported as a warning.
	KnownRansomwareCampaignUse string   `json:"known_ransomware_campaign_use,omitempty"`
	Notes                      string   `json:"notes,omitempty"`
	CWEs                       []string `json:"cwes,omitempty"`
}

// KEVCatalog is the catalogue's own metadata.
type KEVCatalog struct {
	Title          string    `json:"title,omitempty"`
	CatalogVersion string    `json:"catalog_version"` // "2025.08.25"
	DateReleased   time.Time `json:"date_released"`
	// Count is the count the catalogue declares (-1 when absent). It is not trusted: Stats.Records
	// is what was read, and a difference is a WarnCountMismatch warning.
	Count int `json:"count"`
}

type kevEntryJSON struct {
	CVEID                      *string  `json:"cveID"`
	VendorProject              *string  `json:"vendorProject"`
	Product                    *string  `json:"product"`
	VulnerabilityName          *string  `json:"vulnerabilityName"`
	DateAdded                  *string  `json:"dateAdded"`
	ShortDescription           *string  `json:"shortDescription"`
	RequiredAction             *string  `json:"requiredAction"`
	DueDate                    *string  `json:"dueDate"`
	KnownRansomwareCampaignUse string   `json:"knownRansomwareCampaignUse"`
	Notes                      string   `json:"notes"`
	CWEs                       []string `json:"cwes"`
}

// ParseKEV reads the CISA KEV catalogue with the default Options; see Options.ParseKEV.
func ParseKEV(ctx context.Context, r io.Reader, fn func(KEVEntry) error) (Stats, error) {
	return Options{}.ParseKEV(ctx, r, fn)
}

// ParseKEV reads the CISA KEV catalogue JSON (known_exploited_vulnerabilities.json) and calls fn
// for each entry of "vulnerabilities", streamed in catalogue order. Stats.KEV holds the title,
// catalogVersion, dateReleased and the declared count.
func (o Options) ParseKEV(ctx context.Context, r io.Reader, fn func(KEVEntry) error) (Stats, error) {
	o = o.withDefaults()
	st := Stats{Feed: FeedKEV}
	d, err := newJSONDoc(ctx, r, FeedKEV, o)
	if err != nil {
		return st, err
	}
	cat := &KEVCatalog{Count: -1}
	entries, sawVulns := 0, false
	seen := map[string]bool{}
	start, err := d.walkObject(
		func(key string) bool {
			if key == "vulnerabilities" {
				sawVulns = true // even when empty or null
				return true
			}
			return false
		},
		func(_ string, i int) error {
			entries++
			field := fmt.Sprintf("vulnerabilities[%d]", i)
			var j kevEntryJSON
			at, err := d.decode(&j, field, i)
			if err != nil {
				return skipOrFail(o, &st, err)
			}
			e, err := normaliseKEVEntry(&j)
			if err != nil {
				return skipOrFail(o, &st, d.recordErr(err, at, field, i))
			}
			if w := e.KnownRansomwareCampaignUse; w != "" && w != "Known" && w != "Unknown" {
				st.warn(o, Warning{Code: WarnUnusualValue, Record: i,
					Msg: fmt.Sprintf("%s: knownRansomwareCampaignUse %q is neither Known nor Unknown", e.CVEID, truncate(w, 40))})
			}
			if err := fn(e); err != nil {
				return err
			}
			st.Records++
			return nil
		},
		func(key string) error {
			seen[key] = true
			var raw json.RawMessage
			at, err := d.decode(&raw, key, -1)
			if err != nil {
				return err
			}
			switch key {
			case "title":
				err = json.Unmarshal(raw, &cat.Title)
			case "catalogVersion":
				err = json.Unmarshal(raw, &cat.CatalogVersion)
			case "count":
				err = json.Unmarshal(raw, &cat.Count)
			case "dateReleased":
				var s string
				if err = json.Unmarshal(raw, &s); err == nil {
					cat.DateReleased, err = parseTimestamp(s)
				}
			}
			if err != nil {
				return d.errAt(at, ErrInvalidValue, key, -1, fmt.Sprintf("%s: %v", key, err))
			}
			return nil
		},
	)
	st.Bytes = d.g.n
	if err != nil {
		return st, err
	}
	if !sawVulns {
		return st, d.errAt(start, ErrUnknownFormat, "", -1, "not a KEV catalogue: no \"vulnerabilities\" array")
	}
	st.KEV = cat
	for _, k := range []string{"catalogVersion", "dateReleased", "count"} {
		if !seen[k] {
			st.warn(o, Warning{Code: WarnMissingField, Record: -1, Msg: "catalogue has no " + k})
		}
	}
	if cat.Count >= 0 && cat.Count != entries {
		st.warn(o, Warning{Code: WarnCountMismatch, Record: -1,
			Msg: fmt.Sprintf("catalogue declares count %d but holds %d entries", cat.Count, entries)})
	}
	return st, nil
}

func normaliseKEVEntry(j *kevEntryJSON) (KEVEntry, error) {
	req := func(p *string, field string) (string, error) {
		if p == nil {
			return "", invalid(field, "required field is missing")
		}
		return *p, nil
	}
	var e KEVEntry
	var err error
	if e.CVEID, err = req(j.CVEID, "cveID"); err != nil {
		return e, err
	}
	if !ValidCVEID(e.CVEID) {
		return e, invalid("cveID", "not a CVE id: %q", truncate(e.CVEID, 40))
	}
	for _, f := range []struct {
		dst   *string
		src   *string
		field string
	}{
		{&e.VendorProject, j.VendorProject, "vendorProject"},
		{&e.Product, j.Product, "product"},
		{&e.VulnerabilityName, j.VulnerabilityName, "vulnerabilityName"},
		{&e.ShortDescription, j.ShortDescription, "shortDescription"},
		{&e.RequiredAction, j.RequiredAction, "requiredAction"},
	} {
		if *f.dst, err = req(f.src, f.field); err != nil {
			return e, err
		}
	}
	for _, f := range []struct {
		dst   *time.Time
		src   *string
		field string
	}{
		{&e.DateAdded, j.DateAdded, "dateAdded"},
		{&e.DueDate, j.DueDate, "dueDate"},
	} {
		s, err := req(f.src, f.field)
		if err != nil {
			return e, err
		}
		if *f.dst, err = parseDate(s); err != nil {
			return e, invalid(f.field, "not a date (YYYY-MM-DD): %q", truncate(s, 40))
		}
	}
	e.KnownRansomwareCampaignUse = j.KnownRansomwareCampaignUse
	e.Notes = j.Notes
	for i, c := range j.CWEs {
		if !validCWEID(c) {
			return e, invalid(fmt.Sprintf("cwes[%d]", i), "not a CWE id: %q", truncate(c, 40))
		}
	}
	e.CWEs = j.CWEs
	return e, nil
}
