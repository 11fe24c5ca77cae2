#!/bin/sh
# import_facts.sh computes, with jq and xmllint only (never the project's parsers), the facts
# TestEveryNewFormatImportsThroughServe checks every sample report of the new formats against:
# the findings a file holds counted by the format's own notion (distinct by the documented
# fingerprint), by severity where the format's mapping is a plain rename, the assets it names,
# and the same findings count once the first K entries of its findings container are cut (the
# "cut" field tells the test which container; the test cuts the same entries).
#
#   cmd/soc/testdata/import_facts.sh [SHARED_TESTDATA [OUT]]   (from the repository root)
#
# SHARED_TESTDATA defaults to ../shared/testdata beside the repository; OUT to
# cmd/soc/testdata/import_facts.json. File names are base names (importertest.Files keeps them
# unique per format).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
shared=${1:-$root/../shared/testdata}
out=${2:-$root/cmd/soc/testdata/import_facts.json}
own=$root/commands/scans/importers/testdata
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

files() { # files FORMAT SHAREDDIR: the format's report files (importertest.Files)
	for f in "$shared/$2"/* "$shared/variants/$1"/* "$own/$1"/*; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# json FORMAT FILE CUT FINDINGS ASSETS: FINDINGS is a jq expression turning the document into
# an array of {fp, sev} (sev null when the mapping is not a plain rename); CUT is the
# dot-separated path of the array whose first entry the test removes ("" for a top-level
# array; of an object, its first key in sorted order); ASSETS is a jq expression counting the assets.
json() {
	jq -c -n --arg format "$1" --arg file "$(basename "$2")" --arg cut "$3" \
		--slurpfile docs "$2" "
		def findings: $4;
		def assets: $5;
		def facts: findings | unique_by(.fp) as \$u
			| {u: \$u, total: (\$u | length),
			   by_severity: (if all(\$u[]; .sev != null) then (\$u | group_by(.sev) | map({key: .[0].sev, value: length}) | from_entries) else null end)};
		def cutpath: if \$cut == \"\" or \$cut == \"lines\" then [] else \$cut | split(\".\") | map(tonumber? // .) end;
		(\$docs | if length == 1 and ((.[0] | type) == \"array\" or \$cut != \"lines\") then .[0] else . end) as \$doc
		| (\$doc | facts) as \$full
		# no cut where there is nothing to cut, or where it would leave an empty JSON Lines file
		| (\$cut == \"-\" or \$full.total == 0 or (\$cut == \"lines\" and (\$doc | length) == 1)) as \$nocut
		| (if \$nocut then \$full else \$doc | getpath(cutpath) as \$c | delpaths([cutpath + [if (\$c | type) == \"object\" then \$c | keys[0] else 0 end]]) | facts end) as \$rest
		# the cut findings the import resolves: those on an asset the cut report still names
		# (a finding without .asset is on the report's one asset) and not already closed (.closed:
		# resolved or suppressed in the report)
		| [\$full.u[] | select(.closed != true) | select(.fp as \$fp | \$rest.u | map(.fp) | index([\$fp]) | not)
			| select(.asset == null or (.asset as \$a | \$rest.u | map(.asset) | index([\$a])))] as \$resolved
		| {format: \$format, file: \$file, total: \$full.total, by_severity: \$full.by_severity,
		   assets: (\$doc | assets), cut: (if \$cut == \"lines\" then \"lines\" else \"json:\" + \$cut end),
		   k: (if \$nocut then 0 else 1 end), rest: \$rest.total, resolved: (\$resolved | length)}" >>"$tmp" ||
		{ echo "import_facts.sh: $1 $2" >&2 && exit 1; }
}

# xml FORMAT FILE ENTRIES CUT FP SEV ASSETS: one finding entry per node of the XPath ENTRIES;
# FP and SEV are XPath string expressions in which %E stands for the entry (XPath 1.0 has no
# function steps; SEV "" when the mapping is not a plain rename), ASSETS an XPath number or null,
# CLOSED (optional) an XPath boolean: the entry is already resolved or suppressed, so cutting it
# resolves nothing. The test cuts the first element named CUT; the
# entries inside it (or that are it) are left out of rest.
xml() {
	n=$(xmllint --xpath "count($3)" "$2")
	i=1
	first="ancestor-or-self::*[local-name()='$4'][not(preceding::*[local-name()='$4'])][not(ancestor::*[local-name()='$4'])]"
	: >"$tmp.fp"
	while [ "$i" -le "$n" ]; do
		el="($3)[$i]"
		fp=$(xmllint --xpath "string($(echo "$5" | sed "s#%E#$el#g"))" "$2")
		sev=""
		[ -n "$6" ] && sev=$(xmllint --xpath "string($(echo "$6" | sed "s#%E#$el#g"))" "$2")
		in=$(xmllint --xpath "count($el/$first)" "$2")
		closed=$(xmllint --xpath "boolean($(echo "${8:-false()}" | sed "s#%E#$el#g"))" "$2")
		printf '%s\t%s\t%s\t%s\n' "$in" "$fp" "$sev" "$closed" >>"$tmp.fp"
		i=$((i + 1))
	done
	assets=null
	[ "$7" != null ] && assets=$(xmllint --xpath "$7" "$2")
	k=1
	[ "$n" -eq 0 ] && k=0
	jq -c -n -R --arg format "$1" --arg file "$(basename "$2")" --arg el "$4" --arg sevs "$6" \
		--argjson assets "$assets" --argjson k "$k" "
		[inputs | split(\"\t\") | {cut: (.[0] != \"0\"), fp: .[1], sev: (.[2] | if . == \"\" then null else $lower end), closed: (.[3] == \"true\")}] as \$all
		| def facts: unique_by(.fp) as \$u
			| {total: (\$u | length),
			   by_severity: (if \$sevs == \"\" or any(\$u[]; .sev == null) then null else (\$u | group_by(.sev) | map({key: .[0].sev, value: length}) | from_entries) end)};
		(\$all | facts) as \$full
		| {format: \$format, file: \$file, total: \$full.total, by_severity: \$full.by_severity,
		   assets: \$assets, cut: (\"xml:\" + \$el), k: \$k, rest: (\$all | map(select(.cut | not)) | facts.total),
		   resolved: ((\$all | map(select(.cut | not) | .fp)) as \$kept | \$all | map(select(.cut and (.closed | not) and (.fp as \$fp | \$kept | index([\$fp]) | not))) | unique_by(.fp) | length)}" <"$tmp.fp" >>"$tmp"
	rm -f "$tmp.fp"
}

# CSV: a jq CSV reader (RFC 4180: quoted fields may hold commas, quotes doubled, newlines) turns
# the file into objects keyed by the header; the test cuts the first record ("csv").
csvdef='def csv: reduce (explode[] | [.] | implode) as $c ({rows: [], row: [], f: "", q: false, closed: false};
		if .q then (if $c == "\"" then .q = false | .closed = true else .f += $c end)
		elif $c == "\"" then (if .closed then .f += "\"" else . end) | .q = true | .closed = false
		elif $c == "," then .row += [.f] | .f = "" | .closed = false
		elif $c == "\n" then .rows += [.row + [.f]] | .row = [] | .f = "" | .closed = false
		elif $c == "\r" then .
		else .f += $c | .closed = false end)
	| (if .f != "" or (.row | length) > 0 then .rows + [.row + [.f]] else .rows end)
	| map(select(. != [""])) | .[0] as $h | .[1:] | map([$h, .] | transpose | map({key: .[0], value: .[1]}) | from_entries);'
# csvfacts FORMAT FILE FINDINGS: FINDINGS maps the records (an array of objects) to {fp, sev}.
csvfacts() {
	jq -c -n -R --arg format "$1" --arg file "$(basename "$2")" "$csvdef
		def findings: $3;
		def facts: findings | unique_by(.fp) as \$u
			| {total: (\$u | length),
			   by_severity: (if all(\$u[]; .sev != null) then (\$u | group_by(.sev) | map({key: .[0].sev, value: length}) | from_entries) else null end)};
		([inputs] | join(\"\n\") | csv) as \$rows
		| (\$rows | facts) as \$full
		| {format: \$format, file: \$file, total: \$full.total, by_severity: \$full.by_severity, assets: null,
		   cut: \"csv\", k: 1, rest: (\$rows[1:] | facts.total)} | .resolved = .total - .rest" <"$2" >>"$tmp"
}
# lower maps a scanner's severity word onto ours where the format's mapping is a plain rename.
lower='if . == null then null else ascii_downcase end | if . == "moderate" then "medium" elif . == "informational" or . == "information" or . == "unknown" or . == "trace" or . == "false positive" or . == "bestpractice" then "info" else . end'

# Nuclei before 2.5 wrote templateID, matcher_name and matched for template-id, matcher-name and
# matched-at. A Nuclei result's asset: the web application (scheme://host[:port]) of a URL host, else the
# host without its port.
nucleiasset='if test("^[a-z]+://") then capture("^(?<a>[a-z]+://[^/]+)").a else sub(":[0-9]+$"; "") end'
for f in $(files nuclei nuclei); do
	json nuclei "$f" "$(case $f in *.jsonl) echo lines;; esac)" "[if type == \"array\" then .[] else . end | {fp: [(.[\"template-id\"] // .templateID), (.[\"matcher-name\"] // .matcher_name), (.[\"matched-at\"] // .matched // .host)], sev: (.info.severity | $lower), asset: (.host | $nucleiasset)}]" \
		"[if type == \"array\" then .[] else . end | .host | $nucleiasset] | unique | length"
done

# A JSON file's findings: FORMAT DIR CUT FINDINGS ASSETS for every file of the format.
each() {
	for f in $(files "$1" "$2"); do
		json "$1" "$f" "$3" "$4" "$5"
	done
}
arr='(if type == "array" then .[] else . end)'

for f in $(files sonarqube sonarqube); do
	cut=issues
	jq -e 'type == "array"' "$f" >/dev/null && cut=0.issues
	jq -e 'type == "object" and has("hotspots")' "$f" >/dev/null && cut=hotspots
	# sonar-report's export (sonarBaseURL) holds security issues only, of sonarComponent.
	json sonarqube "$f" "$cut" "[$arr | if type == \"object\" and has(\"sonarBaseURL\") then (.sonarComponent // .projectName) as \$p | .issues[]? | {fp: .key, sev: null, asset: \$p}
		else (.issues[]? | select(.type == \"VULNERABILITY\" or .type == \"SECURITY_HOTSPOT\" or any(.impacts[]?; .softwareQuality == \"SECURITY\"))), .hotspots[]? | {fp: .key, sev: null, asset: .project} end]" \
		"[$arr | if type == \"object\" and has(\"sonarBaseURL\") then .sonarComponent // .projectName else .issues[]?, .hotspots[]? | .project end] | unique | length"
done
each kics kics queries "[.queries[] | .severity as \$s | .query_id as \$q | .files[] | {fp: [\$q, (if (.similarity_id // \"\") != \"\" then .similarity_id else [.file_name, .search_key] end)], sev: (\$s | $lower)}]" 1
# govulncheck before 1.0 wrote one result object: Vulns[] by OSV id and ModPath, the version
# from Modules.
each govulncheck govulncheck - "[if type == \"object\" and has(\"Vulns\") then (.Modules // [] | map({key: .Path, value: .Version}) | from_entries) as \$v
	| .Vulns[] | {fp: [.OSV.id, .ModPath, \$v[.ModPath]], sev: null}
	else .[] | .finding? // empty | {fp: [.osv, .trace[0].module, .trace[0].version], sev: null} end]" null
# npm 6 reports (no auditReportVersion) hold an advisories map instead: the same fingerprint,
# GHSA from github_advisory_id or the url, else the npm advisory id. The test cuts the map's
# first key in sorted order (jq's keys, Go's encoding/json).
for f in $(files npm-audit npm-audit); do
	if jq -e 'has("advisories")' "$f" >/dev/null; then
		json npm-audit "$f" advisories "[.advisories[] | (.id | tostring) as \$id | {fp: [.module_name, (((.github_advisory_id // \"\") + \" \" + (.url // \"\")) | capture(\"(?<g>GHSA-[a-z0-9-]+)\").g // \$id), .vulnerable_versions], sev: (.severity | $lower)}]" null
	else
		json npm-audit "$f" - "[.vulnerabilities[] | .name as \$n | .via[] | objects | {fp: [\$n, ((.url // \"\") | capture(\"(?<g>GHSA-[a-z0-9-]+)\").g // (.source | tostring)), .range], sev: (.severity | $lower)}]" null
	fi
done
for f in $(files pip-audit pip-audit); do
	cut=dependencies
	jq -e 'type == "array"' "$f" >/dev/null && cut=
	json pip-audit "$f" "$cut" "[(if type == \"array\" then .[] else .dependencies[] end) | (.name | ascii_downcase | gsub(\"[-_.]+\"; \"-\")) as \$n | .version as \$v | .vulns[]? | {fp: [\$n, \$v, .id], sev: \"medium\"}]" null
done
# GitHub: REST alert lists, webhook events (one alert: not cut) and GraphQL answers whose
# repositories (data.search.nodes, data.organization.repositories.nodes or data.repository) list
# vulnerabilityAlerts nodes, by number else node id; the repository is the asset.
ghrepos='(.data | [.search.nodes[]?, .organization.repositories.nodes[]?, .repository // empty])'
for f in $(files github github); do
	cut=-
	jq -e 'type == "array"' "$f" >/dev/null && cut=
	jq -e 'type == "object" and .data.search.nodes != null' "$f" >/dev/null && cut=data.search.nodes
	json github "$f" "$cut" "[if type == \"array\" then .[] | {k: (if .rule then \"code\" else \"dependabot\" end), r: .repository.full_name, n: .number}
		elif .data then $ghrepos[] | ((.nameWithOwner // (.url | sub(\"^https://github.com/\"; \"\"))) | ascii_downcase) as \$r
			| .vulnerabilityAlerts.nodes[] | {k: \"dependabot\", r: \$r, n: (.number // (\"node \" + .id))}
		else .alert + {repository: .repository} | {k: (if .rule then \"code\" else \"dependabot\" end), r: .repository.full_name, n: .number} end
		| (.r | if . then ascii_downcase else . end) as \$r | {fp: [.k, \$r, .n], sev: null, asset: \$r}]" \
		"[if type == \"object\" and .data then $ghrepos[] | (.nameWithOwner // .url) else $arr | .repository.full_name // .alert.repository.full_name end] | unique | length"
done
for f in $(files snyk snyk); do
	cut=vulnerabilities
	jq -e 'type == "array"' "$f" >/dev/null && cut=0.vulnerabilities
	json snyk "$f" "$cut" "[$arr | (.path + \"|\" + (.displayTargetFile // .targetFile // \"\")) as \$p | (.vulnerabilities[], .filtered.ignore[]?, .filtered.patch[]?) | {fp: [\$p, .id, .packageName, .version], sev: ((.severityWithCritical // .severity) | if IN(\"critical\", \"high\", \"medium\", \"low\") then . else null end)}]" null
done
each osv-scanner osv-scanner results "[.results[] | .source.path as \$src | .packages[] | .package as \$pkg | [.groups[]?.ids[]] as \$grouped
	| ((.groups[]? | {fp: [\$src, \$pkg.ecosystem, \$pkg.name, \$pkg.version, (.ids | sort | first)], sev: null}),
	   (.vulnerabilities[]? | select(.id as \$id | \$grouped | index(\$id) | not) | {fp: [\$src, \$pkg.ecosystem, \$pkg.name, \$pkg.version, .id], sev: null}))]" null
for f in $(files dependency-check dependency-check); do
	case $f in
	*.json) json dependency-check "$f" dependencies "[.dependencies[] | ((.packages[0].id) // ((.sha256 // .sha1 // .md5) + (.fileName // \"\")) // .filePath) as \$d | (.vulnerabilities[]?, .suppressedVulnerabilities[]?) | {fp: [\$d, .name], sev: (if (.severity // \"\") | ascii_downcase | IN(\"\", \"unknown\") then null else .severity | $lower end)}]" 1 ;;
	*) xml dependency-check "$f" "//*[local-name()='vulnerability' or local-name()='suppressedVulnerability']" dependency \
		"concat(%E/../../*[local-name()='sha256'], '|', %E/../../*[local-name()='fileName'], '|', %E/*[local-name()='name'])" "substring(%E/*[local-name()='severity'], 1, 100 * number(%E/*[local-name()='severity'] != 'Unknown'))" 1 \
		"local-name(%E) = 'suppressedVulnerability'" ;;
	esac
done
for f in $(files burp burp); do
	xml burp "$f" "//issue" issue "concat(%E/host, '|', %E/type, '|', %E/path, '|', %E/location)" %E/severity "count(//issue/host[not(. = preceding::issue/host)])"
done
# Veracode: the flaws by issueid and the SCA vulnerabilities by component library_id and
# cve_id (the detailed report); the findings API JSON the same by issue_id, or by
# component_filename@version and cve.name for SCA.
for f in $(files veracode veracode); do
	case $f in
	*.json)
		cut=findings
		jq -e 'has("_embedded")' "$f" >/dev/null && cut=_embedded.findings
		jq -e 'type == "array"' "$f" >/dev/null && cut=
		json veracode "$f" "$cut" "[(._embedded.findings? // .findings? // .)[] | .context_guid as \$app
			| if .scan_type == \"SCA\" then {fp: [\$app, \"sca\", .finding_details.component_filename + \"@\" + .finding_details.version, .finding_details.cve.name], sev: null}
			  else {fp: [\$app, \"flaw\", .issue_id], sev: null} end]" null ;;
	*) xml veracode "$f" "//*[local-name()='flaw'] | //*[local-name()='vulnerabilities']/*[local-name()='vulnerability']" flaw \
		"concat(local-name(%E), '|', %E/@issueid, '|', %E/../../@library_id, '|', %E/@cve_id)" "" 1 \
		"%E/@remediation_status = 'Fixed' or %E/@mitigation_status = 'accepted' or %E/@mitigation = 'true'" ;;
	esac
done
for f in $(files checkmarx checkmarx); do
	xml checkmarx "$f" "//Result" Result "concat(%E/../@id, '|', %E/@FileName, '|', %E/Path/@SimilarityId)" "%E/@Severity" "count(/CxXMLResults[@ProjectName])"
done
# Qualys VM findings are [IP, QID, port, protocol] whatever the shape (scan report CAT records,
# an asset data report's VULN_INFO, a host detection list's DETECTION, a CSV row); WAS ones
# [QID, URL, parameter] in the one web application.
for f in $(files qualys qualys); do
	case $f in
	*.csv)
		csvfacts qualys "$f" 'map({fp: [.IP, .QID, (.Port // .PORT), (.Protocol // .PROTOCOL)], sev: null})'
		continue ;;
	esac
	if grep -q '<VULN_INFO>\|<DETECTION>' "$f"; then
		el=$(if grep -q '<VULN_INFO>' "$f"; then echo VULN_INFO; else echo DETECTION; fi)
		xml qualys "$f" "//$el" "$el" "concat(%E/ancestor::HOST/IP, '|', %E/QID, '|', %E/PORT, '|', %E/PROTOCOL)" "" null
		continue
	fi
	# A WAS report's findings are its VULNERABILITY_LIST's and SENSITIVE_CONTENT_LIST's entries
	# (its SUMMARY has a VULNERABILITY count element too); an IGNORED one is suppressed.
	xml qualys "$f" "//VULN | //INFO | //SERVICE | //PRACTICE | //VULNERABILITY_LIST/VULNERABILITY | //SENSITIVE_CONTENT_LIST/SENSITIVE_CONTENT" \
		"$(if grep -q WAS_SCAN_REPORT "$f"; then echo VULNERABILITY_LIST; else echo CAT; fi)" \
		"concat(%E/ancestor::IP/@value, '|', %E/@number, '|', %E/../@port, '|', %E/../@protocol, '|', %E/QID, '|', %E/URL, '|', %E/PARAM)" "" null \
		"%E/IGNORED = 'true'"
done
for f in $(files acunetix acunetix); do
	case $(basename "$f") in acunetix360_testsparker.xml) continue ;; esac
	if grep -q '<acunetix-360' "$f"; then
		xml acunetix "$f" "//vulnerability" vulnerability "concat(/acunetix-360/target/url, '|', %E/type, '|', %E/url)" %E/severity 1
	else
		xml acunetix "$f" "//ReportItem" ReportItem "concat(%E/ancestor::Scan/StartURL, '|', %E/ModuleName, '|', %E/Name, '|', %E/Affects, '|', %E/Parameter)" %E/Severity "count(//Scan)"
	fi
done
each acunetix360 acunetix360 Vulnerabilities "[.Target.Url as \$t | .Vulnerabilities[] | {fp: [\$t, .Type, .Url], sev: (.Severity | $lower)}]" 1
# ASFF: Findings (findings, an EventBridge event's detail.findings, a bare array); an ARN Id
# names a finding with its ProductArn, another Id adds the Title (Trivy's template reuses Ids),
# no Id is GeneratorId and the first resource.
for f in $(files asff aws); do
	cut=Findings
	jq -e 'type == "object" and has("findings")' "$f" >/dev/null && cut=findings
	jq -e 'type == "object" and has("detail")' "$f" >/dev/null && cut=detail.findings
	jq -e 'type == "array"' "$f" >/dev/null && cut=
	json asff "$f" "$cut" "[(if type == \"array\" then .[] else (.Findings // .findings // .detail.findings)[] end)
		| {fp: (if (.Id // \"\") == \"\" then [.ProductArn, .GeneratorId, .Resources[0].Id] elif (.Id | startswith(\"arn:\")) then [.ProductArn, .Id] else [.ProductArn, .Id, .Title] end),
		   sev: (.Severity.Label | $lower), asset: .Resources[0].Id}]" null
done
# Inspector2: list-findings' findings[], or an EventBridge event whose detail is one finding
# (nothing to cut).
for f in $(files aws-inspector2 aws-inspector2); do
	cut=findings
	jq -e 'has("detail")' "$f" >/dev/null && cut=-
	json aws-inspector2 "$f" "$cut" "[(.findings // [.detail])[] | {fp: .findingArn, sev: (if .severity == \"UNTRIAGED\" then null else .severity | $lower end), asset: .resources[0].id}]" null
done
# The fingerprints of Semgrep, Bandit and Gitleaks add the occurrence index of a repeated
# identity: every entry is a finding. These reports, npm audit's, pip-audit's and govulncheck's
# name no asset of their own (the test gives each file one): no asset count.
each semgrep semgrep results "[.results | to_entries[] | {fp: .key, sev: null}]" null
each bandit bandit results "[[.results[] | select((.test_id // \"\") != \"\" and (.filename // \"\") != \"\")] | to_entries[] | {fp: .key, sev: (.value.issue_severity | $lower)}]" null
# Gitleaks 7's repoURL is the asset (cutting its only leak leaves no asset to resolve on).
each gitleaks gitleaks "" "[. // [] | to_entries[] | {fp: .key, sev: \"high\", asset: .value.repoURL}]" null

# Trivy Operator YAML: jq reads no YAML, so a short awk pass (POSIX, as coreutils) lists the
# items of every report's checks: and vulnerabilities: lists as TSV (item number, kind, workload
# namespace/kind/name, image, id, resource, installed version, severity, success), and jq counts
# them. The test cuts the first item of the first such list ("yaml").
yamlitems() {
	awk '
	function indent(l) { match(l, /^ */); return RLENGTH }
	function val(l) { sub(/^[^:]*: */, "", l); gsub(/"/, "", l); return l }
	function flush() { if (item) print item "\t" kind "\t" ns "/" rkind "/" rname "\t" repo ":" tag "@" digest "\t" id "\t" res "\t" ver "\t" sev "\t" ok; item = 0; id = res = ver = sev = ok = "" }
	/^ *kind: [A-Za-z]*Report *$/ { flush(); item = 0; kind = val($0); ns = rkind = rname = repo = tag = digest = ""; inlist = 0 }
	/trivy-operator\.resource\.namespace:/ { ns = val($0) }
	/trivy-operator\.resource\.kind:/ { rkind = val($0) }
	/trivy-operator\.resource\.name:/ { rname = val($0) }
	/^ *repository:/ { repo = val($0) }
	/^ *tag:/ { tag = val($0) }
	/^ *digest:/ { digest = val($0) }
	/^ *(checks|vulnerabilities): *$/ { flush(); inlist = 1; listind = indent($0); itemind = -1; next }
	inlist && /[^ ]/ {
		d = indent($0)
		if (d <= listind && $0 !~ /^ *- /) { flush(); inlist = 0 }
		else if ($0 ~ /^ *- / && (itemind < 0 || d == itemind)) { flush(); itemind = d; n++; item = n; line = $0; sub(/- /, "  ", line); $0 = line }
		else if (d < itemind) { flush(); inlist = 0 }
	}
	inlist && /^ *(checkID|vulnerabilityID):/ { id = val($0) }
	inlist && /^ *resource:/ { res = val($0) }
	inlist && /^ *installedVersion:/ { ver = val($0) }
	inlist && /^ *severity:/ { sev = val($0) }
	inlist && /^ *success:/ { ok = val($0) }
	END { flush() }' "$1"
}
for f in $(files trivy-operator trivy-operator); do
	case $f in
	*.json)
		# a list's items, an array of resources, or an object of arrays named after the resource
		# types (whose dotted names no cut path can name: not cut)
		cut=items.0.report.vulnerabilities
		jq -e 'type == "array"' "$f" >/dev/null && cut=0.report.$(jq -r '.[0].report | if has("secrets") then "secrets" elif has("checks") then "checks" else "vulnerabilities" end' "$f")
		jq -e 'type == "object" and (has("items") or has("kind") | not)' "$f" >/dev/null && cut=-
		json trivy-operator "$f" "$cut" "[(if type == \"array\" then .[] elif .items then .items[] elif .kind then . else .[][] end)
		| (.metadata.labels // {}) as \$l | .kind as \$kind | .report as \$r | .metadata.name as \$name
		| (\$l[\"trivy-operator.resource.namespace\"] + \"/\" + \$l[\"trivy-operator.resource.kind\"] + \"/\" + \$l[\"trivy-operator.resource.name\"]) as \$workload
		| (\$r.artifact.digest // \$r.artifact.tag) as \$image
		| if \$kind == \"VulnerabilityReport\" then \$r.vulnerabilities[]? | {fp: [\$image, .vulnerabilityID, .resource, .installedVersion], sev: (if .severity == \"UNKNOWN\" and .score then null else .severity | $lower end)}
		  elif \$kind == \"ExposedSecretReport\" then \$r.secrets[]? | {fp: [\"secret\", \$image, (if (.ruleID // \"\") != \"\" then .ruleID else .title end), .target], sev: (.severity | $lower)}
		  elif \$kind == \"ClusterComplianceReport\" then
			(.status.detailReport.results[]? | .id as \$c | .checks[]? | select(.success == false) | {fp: [\"compliance\", \$name, \$c, .checkID, .target], sev: (.severity | $lower)}),
			(.status.summaryReport.controlCheck[]? | select((.totalFail | tonumber) > 0) | {fp: [\"compliance\", \$name, .id], sev: (.severity | $lower)})
		  elif \$kind | test(\"(ConfigAudit|RbacAssessment|InfraAssessment)Report\$\") then \$r.checks[]? | select(.success == false) | {fp: [\$kind, (if (.checkID // \"\") != \"\" then .checkID else .title end), \$workload], sev: (.severity | $lower)}
		  else empty end]" null ;;
	*) yamlitems "$f" | jq -c -n -R --arg file "$(basename "$f")" "
		[inputs | split(\"\t\") | {item: .[0], kind: .[1], workload: .[2], image: .[3], id: .[4], res: .[5], ver: .[6], sev: (.[7] | $lower), ok: .[8]}
		 | select(.kind | test(\"(Vulnerability|ConfigAudit|RbacAssessment|InfraAssessment)Report\$\"))
		 | if .kind | test(\"Vulnerability\") then {item, fp: [.image, .id, .res, .ver], sev}
		   elif .ok == \"false\" then {item, fp: [.kind, .id, .workload], sev} else empty end] as \$all
		| def facts: unique_by(.fp) as \$u | {total: (\$u | length), by_severity: (\$u | group_by(.sev) | map({key: .[0].sev, value: length}) | from_entries)};
		(\$all | facts) as \$full
		| {format: \"trivy-operator\", file: \$file, total: \$full.total, by_severity: \$full.by_severity, assets: null,
		   cut: \"yaml\", k: 1, rest: (\$all | map(select(.item != \"1\")) | facts.total)} | .resolved = .total - .rest" >>"$tmp" ;;
	esac
done

sev5='ascii_downcase | if . == "informational" or . == "none" then "info" elif IN("critical", "high", "medium", "low", "info") then . else "info" end'
# A generic finding is on its endpoint's asset: an http(s) URL's web application (scheme, host
# and port), else the host; none without endpoints (the report's asset).
endpointasset='if . == null then null elif type == "object" then (if (.protocol // "") | test("^https?$") then "\(.protocol)://\(.host)" + (if .port then ":\(.port)" else "" end) else .host end) elif test("^https?://") then capture("^(?<a>https?://[^/]+)").a else sub(":[0-9]+$"; "") end'
for f in $(files generic generic); do
	case $f in
	*.csv) csvfacts generic "$f" "map({fp: [.Title, (.Severity | $sev5), .Url], sev: (.Severity | $sev5)})" ;;
	*) json generic "$f" findings "[.findings[] | . as \$x | (.endpoints // [null])[] as \$e
		| {fp: (if \$x.unique_id_from_tool then [\$x.unique_id_from_tool, \$e]
			elif \$x.vuln_id_from_tool then [\$x.vuln_id_from_tool, \$x.component_name, \$x.component_version, \$x.file_path, \$e]
			else [\$x.title, \$x.severity, \$x.component_name, \$x.file_path, \$e] end),
		   sev: (\$x.severity | $sev5), asset: (\$e | $endpointasset)}]" null ;;
	esac
done
# mapped: the samples' mappings (commands/scans/importers/mapped/testdata) name the fingerprint
# fields and severity_map (keys compared trimmed and case-insensitively); a value the map does not name is one of the built-in words, else info.
mapsev='if . == null then "info" else ((ascii_downcase | sub("^\\s+"; "") | sub("\\s+$"; "")) as $v | [$m | to_entries[] | select(.key | ascii_downcase == $v) | .value][0] // (ascii_downcase | if . == "informational" or . == "none" then "info" else . end)) | if IN("critical", "high", "medium", "low", "info") then . else "info" end end'
csvfacts mapped "$own/mapped/acme-findings.csv" '{"Sev 1": "critical", "Sev 2": "high", "Sev 3": "medium", "Sev 4": "low", "Sev 5": "info"} as $m
	| map({fp: [."Check ID", ."Target IP", .Package], sev: (.Risk | '"$mapsev"')})'
json mapped "$own/mapped/webscan-results.json" data.results '{"P1": "critical", "P2": "high", "P3": "medium", "P4": "low", "P5": "info"} as $m
	| [.data.results[] | {fp: [.id, .location.url], sev: (.risk.level | '"$mapsev"')}]' null

jq -s 'sort_by(.format, .file)' "$tmp" >"$out"
