// Package domain holds the rules of the assets context: the Asset aggregate (identity,
// classification, links, lifecycle) and the Index that decides whether an asset a scan reported
// is one the platform already knows. No I/O: the application layer loads an Asset from its
// events, calls a method, and appends the changes the method returns; it keeps an Index up to
// date by applying every asset event to it.
//
// # Events
//
// Stream ids are random, "assets-asset-<uuidv7>" (events.NewStreamID("assets", "asset")), chosen
// at registration: an asset has no natural key, its identifiers change over time.
//
//	AssetRegistered           kind, name, description?, identifiers, criticality?, environment?,
//	                          owner_team?, data_classification?, tags?, scan_id? (set by discovery)
//	AssetUpdated              name?, description?, identifiers? (the complete new set) — only what changed
//	AssetClassified           criticality?, environment?, owner_team?, data_classification?, tags? — only what changed
//	AssetLinked, AssetUnlinked relation (runs_on, depends_on, exposes, contains), target_asset_id
//	AssetIdentifiersObserved  scan_id, identifiers (only those the asset did not have yet)
//	AssetRetired              reason
//	AssetReactivated          reason
//
// Each has a JSON Schema, schemas/events/assets/<Type>.v1.json; a test validates every change the
// tests produce against them. A command that would change nothing returns no changes.
//
// # Lifecycle
//
// An asset is active from registration. Retire makes it retired: a retired asset refuses every
// command (TransitionError, a conflict) except Reactivate, which brings it back (a mistaken
// retirement, a machine returned to service); Reactivate on an active asset is refused as well.
//
// # Identifiers
//
// Which identifiers a kind carries and needs:
//
//	host             ips, hostnames, macs — at least one; cloud_id optional (a VM's instance id)
//	container_image  image_digest (sha256:<64 hex>) and/or purl (pkg:oci/… or pkg:docker/…)
//	repository       repo_url
//	web_application  base_url
//	cloud_resource   cloud_id (an ARN, an Azure resource id, a GCP self-link, …)
//
// They are stored normalised, so equal identifiers are equal strings: IPs in net/netip's form
// (IPv4-mapped addresses unmapped, zones dropped); MACs as AA:BB:CC:DD:EE:FF (aa-bb-cc-dd-ee-ff,
// aabb.ccdd.eeff and aabbccddeeff are accepted); hostnames lower-case RFC 1123 without the trailing
// dot; repo URLs as https://<host>/<path> whatever the form given (https, http, ssh, git,
// git@host:path), host lower-cased, ".git" and trailing "/" stripped (paths lower-cased too on
// github.com, gitlab.com, bitbucket.org, which ignore case); base URLs as scheme://host[:port],
// lower-case, default port dropped, no path; Azure resource ids lower-cased. Invalid identifiers
// are refused with a RuleError naming the field ("/identifiers/ips/2").
//
// Placeholders are valid but identify nothing, so discovery drops them and matching never uses
// them: the MACs 00:00:00:00:00:00 and FF:FF:FF:FF:FF:FF, multicast MACs, the virtual-router MACs
// of VRRP, HSRP and GLBP, Docker's default-bridge MACs (02:42:AC:11:…); the unspecified, loopback,
// multicast and broadcast IPs; "localhost". Link-local IPs (169.254.0.0/16, fe80::/10) are kept
// on the asset but never matched on: they repeat on every network link.
//
// # Matching discovered assets (Index.Match, Index.Plan)
//
// A scan reports assets as Sightings (the scans context translates its report assets into them).
// The Index answers "which known asset is this?" by these rules, tried in order; the first that
// matches decides:
//
//  1. cloud_id — an asset of the same kind with the same cloud id.
//  2. image_digest — a container image with the same digest.
//  3. repo_url — a repository with the same normalised repo URL.
//  4. base_url — a web application with the same normalised base URL.
//  5. mac — a host holding one of the incoming host's MACs (placeholder MACs ignored).
//     Rules 1–5 use strong identifiers. Should they point at several assets (two assets were
//     registered with the same MAC, or the incoming host's two MACs belong to two assets), the
//     oldest asset (smallest UUIDv7 stream id) is chosen and the others are reported as
//     Conflicts, for a person to merge or correct.
//  6. purl — a container image with the same purl, when exactly one live image has it and the
//     incoming image's digest does not contradict it (both have digests and they differ: the tag
//     moved to a new image, which is a new asset).
//  7. hostname — a host with the same host name (the full name, case-insensitive), when the
//     incoming names point at exactly one live host. A name shared by several hosts is ambiguous
//     and not used. A hostname match is not vetoed by an unknown MAC: host names are given to a
//     machine by its owner, so a new MAC on a known name is a new network card, and is recorded.
//  8. ip — a host with one of the incoming IPs, only when unambiguous and uncontradicted:
//     each incoming IP held by exactly one live host votes for it (IPs held by several are
//     ignored); all votes must name the same host; and the match is refused when the incoming host
//     and the candidate both carry MACs (or cloud ids) and share none — an IP reused by DHCP for
//     another machine is a new asset, not a match. (An incoming MAC known to a different asset
//     never reaches this rule: rule 5 matched that asset.)
//
// Whatever the rule:
//
//   - Kinds must agree: a host never matches a container image, a cloud_resource never matches
//     a host with the same cloud id.
//   - Retired assets never match: a scan that sees a retired asset's identifiers again registers
//     a new asset (the old one keeps its history; a person may reactivate it instead).
//   - When in doubt, no match: a duplicate asset is visible and can be retired, a wrong match
//     silently mixes two machines' findings. Resolution.Reasons says why a weaker rule declined
//     (hostname_ambiguous, ip_ambiguous, ip_contradicted_by_mac, ip_contradicted_by_cloud_id,
//     purl_ambiguous, purl_contradicted_by_image_digest).
//
// For a match, Plan also returns the identifiers the asset does not have yet (New), to be recorded
// with Asset.ObserveIdentifiers; strong identifiers that belong to another asset, and
// single-valued ones that differ from the asset's, are not proposed but listed in Dropped.
// Without a match, Plan returns the normalised identifiers and name to register, or Problem when
// the report does not identify the asset well enough to register it (a repository without a
// repo URL). The application layer applies the events it appends back to the Index before it
// plans the next asset of the same report, so one report never registers the same asset twice.
package domain
