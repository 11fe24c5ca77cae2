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
# array); ASSETS is a jq expression counting the assets.
json() {
	jq -c -n --arg format "$1" --arg file "$(basename "$2")" --arg cut "$3" \
		--slurpfile docs "$2" "
		def findings: $4;
		def assets: $5;
		def facts: findings | unique_by(.fp) as \$u
			| {total: (\$u | length),
			   by_severity: (if all(\$u[]; .sev != null) then (\$u | group_by(.sev) | map({key: .[0].sev, value: length}) | from_entries) else null end)};
		def cutpath: if \$cut == \"\" or \$cut == \"lines\" then [] else \$cut | split(\".\") end;
		(\$docs | if length == 1 and ((.[0] | type) == \"array\" or \$cut != \"lines\") then .[0] else . end) as \$doc
		| (\$doc | facts) as \$full
		| {format: \$format, file: \$file, total: \$full.total, by_severity: \$full.by_severity,
		   assets: (\$doc | assets), cut: (if \$cut == \"lines\" then \"lines\" else \"json:\" + \$cut end), k: 1,
		   rest: (\$doc | delpaths([cutpath + [0]]) | facts.total)}" >>"$tmp"
}

# xml FORMAT FILE ELEMENT FP SEV ASSETS: one entry per ELEMENT (the test cuts the first one);
# FP and SEV are XPath string expressions evaluated on each element (SEV "" when not a
# plain rename), ASSETS an XPath number.
xml() {
	n=$(xmllint --xpath "count(//*[local-name()='$3'])" "$2")
	i=1
	: >"$tmp.fp"
	while [ "$i" -le "$n" ]; do
		el="(//*[local-name()='$3'])[$i]"
		fp=$(xmllint --xpath "string($el/$4)" "$2" 2>/dev/null || true)
		sev=""
		[ -n "$5" ] && sev=$(xmllint --xpath "string($el/$5)" "$2" 2>/dev/null || true)
		printf '%s\t%s\t%s\n' "$i" "$fp" "$sev" >>"$tmp.fp"
		i=$((i + 1))
	done
	assets=$(xmllint --xpath "$6" "$2")
	jq -c -n -R --arg format "$1" --arg file "$(basename "$2")" --arg el "$3" --arg sevs "$5" \
		--argjson assets "$assets" '
		[inputs | split("\t") | {i: (.[0] | tonumber), fp: .[1], sev: .[2]}] as $all
		| def facts: unique_by(.fp) as $u
			| {total: ($u | length),
			   by_severity: (if $sevs == "" then null else ($u | group_by(.sev) | map({key: .[0].sev, value: length}) | from_entries) end)};
		($all | facts) as $full
		| {format: $format, file: $file, total: $full.total, by_severity: $full.by_severity,
		   assets: $assets, cut: ("xml:" + $el), k: 1, rest: ($all | map(select(.i > 1)) | facts.total)}' <"$tmp.fp" >>"$tmp"
	rm -f "$tmp.fp"
}

# lower maps a scanner's severity word onto ours where the format's mapping is a plain rename.
lower='ascii_downcase | if . == "moderate" then "medium" elif . == "informational" or . == "information" or . == "unknown" then "info" else . end'

for f in $(files nuclei nuclei); do
	json nuclei "$f" "$(case $f in *.jsonl) echo lines;; esac)" "[if type == \"array\" then .[] else . end | {fp: [.[\"template-id\"], .[\"matcher-name\"], (.[\"matched-at\"] // .host)], sev: (.info.severity | $lower)}]" \
		"[if type == \"array\" then .[] else . end | .host | sub(\"^(?<s>[a-z]+://)?(?<h>[^/]+).*\"; \"\(.s // \"\")\(.h)\")] | unique | length"
done

jq -s 'sort_by(.format, .file)' "$tmp" >"$out"
