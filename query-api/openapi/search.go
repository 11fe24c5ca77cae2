package openapi

import (
	"strings"

	searchmodel "github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// The search route (query-api/search) over the search model (projections/search). Kept apart
// from operations.go so the search context documents itself in one place; its vocabularies
// (kinds, facets, sorts, fields) are the model's own lists.

func searchOperation(responses map[int]response) operation {
	fields := make([]string, len(query.Fields))
	for i, f := range query.Fields {
		fields[i] = string(f)
	}
	var sorts []string
	for _, s := range searchmodel.SortFields {
		sorts = append(sorts, s, "-"+s)
	}
	responses[403] = problemResp("A kind asked by types= needs a permission the caller lacks (assets:read for asset, audit:read for event).")
	return operation{method: "GET", path: "/v1/search", id: "search", tag: "search", summary: "Search assets, findings, CVEs and the audit trail",
		desc: "q is the search language (projections/search/query): free text, \"quoted phrases\" and field operators (" + strings.Join(fields, ", ") +
			"), a leading - negating a clause, a comma list matching any of its values. A q the parser cannot read is a 400 naming q, " +
			"with the members position (the byte offset in q) and, when one is close, suggestion (the field or value probably meant). " +
			"Assets need assets:read and audit-trail events audit:read besides findings:read: without them they are left out of a search " +
			"that names no types, and naming them in types is a 403. Without teams:all the caller finds its teams' findings, assets and " +
			"events only (CVEs are everyone's); totals and facets count those alone. min_position waits for, and Soc-Read-Position answers, " +
			"the search index's own position.",
		params: concat([]param{
			qp("q", bounded(str(""), query.MaxLength), "The query; absent or empty: every document (to browse by facets)."),
			qp("types", listParam(searchKinds()), "Any of these document kinds (default: finding, asset and cve, and event with audit:read)."),
			qp("facets", listParam(searchmodel.FacetFields), "Facets to count over every match (default: all of them)."),
			qp("sort", enum(sorts, ""), "relevance or a field, - for descending. Default: relevance when q has free text, else -at."),
			qp("limit", intRange(1, searchmodel.MaxLimit, 20), "Page size."),
			qp("cursor", bounded(str(""), 2048), "next_cursor of the previous page; only valid with the same parameters."),
			qp("highlight", boolean("Wrap the words free text matched in title and text in <mark> (default true)."), ""),
		}, readYourWrites, []param{ifNoneMatch}),
		responses: responses}
}

// searchSchemas are the search answer's schemas.
func searchSchemas() obj {
	strs := arrayOf(str(""))
	return obj{
		"SearchAnswer": object([]string{"query", "total", "hits", "facets", "position"}, obj{
			"query":       str("q as parsed, in canonical form."),
			"total":       integer("Every match, all pages."),
			"hits":        arrayOf(ref("SearchHit")),
			"facets":      obj{"type": "object", "additionalProperties": arrayOf(ref("FacetValue")), "description": "Per facet asked, its most frequent values over every match."},
			"next_cursor": str("The next page's cursor; absent on the last page."),
			"position":    integer("The search index's position when it was read: the answer holds every event up to it."),
		}),
		"FacetValue": object([]string{"value", "count"}, obj{"value": str(""), "count": integer("")}),
		"SearchHit": object([]string{"id", "kind", "version", "title", "at", "kev", "score"}, obj{
			"id":          str("The stream id (finding, asset), the CVE id or the event id."),
			"kind":        enum(searchKinds(), ""),
			"version":     integer("The document's stream version (1 for an event)."),
			"title":       str(""),
			"text":        str(""),
			"at":          dateTime("The last change."),
			"severity":    str(""),
			"status":      str(""),
			"cves":        strs,
			"cwes":        strs,
			"packages":    strs,
			"kev":         boolean(""),
			"cvss":        number(""),
			"epss":        number(""),
			"scanner":     str(""),
			"asset_id":    str(""),
			"asset_name":  str(""),
			"hostnames":   strs,
			"ips":         strs,
			"team":        str(""),
			"environment": str(""),
			"asset_kind":  str(""),
			"tags":        strs,
			"actor":       str("An audit event's actor."),
			"event_type":  str("An audit event's type."),
			"stream_id":   str("An audit event's stream."),
			"score":       number("The backend's relevance score (0 when not sorted by relevance)."),
			"highlights":  obj{"type": "object", "additionalProperties": strs, "description": "title and text fragments with the matched words in <mark> (HTML-escaped otherwise)."},
		}),
	}
}

func searchKinds() []string {
	kinds := make([]string, len(searchmodel.Kinds))
	for i, k := range searchmodel.Kinds {
		kinds[i] = string(k)
	}
	return kinds
}
