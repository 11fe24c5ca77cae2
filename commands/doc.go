// Package commands will hold one package per bounded context (identity, assets, vulns, scans,
// notifications, compliance, threatintel): aggregates, command handlers and their HTTP endpoints.
// It is empty until the first context lands; the module exists so the workspace layout is fixed.
package commands
