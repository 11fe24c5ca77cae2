#!/usr/bin/env bash
# Command-line tools the tests call (not servers): poppler-utils' pdftotext, pdfinfo and
# pdftoppm check the PDF reports (query-api/reporting/render).
#   deploy/dev/tools.sh up    install what is missing (needs root and apt-get; else a warning:
#                             the PDF checks then skip, or fail under CI=true / SOC_REQUIRE_SERVERS=1)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-up}" in
up)
  if command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null && command -v pdftoppm >/dev/null; then
    log "$(pdftotext -v 2>&1 | head -n1) at $(command -v pdftotext)"
    exit 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "WARNING: poppler-utils is not installed and cannot be installed here (need root and apt-get): apt-get install poppler-utils"
    exit 0
  fi
  # apt_install dies on failure: a CI run that cannot get the PDF tools should say so plainly.
  apt_install poppler-utils
  log "$(pdftotext -v 2>&1 | head -n1) installed"
  ;;
*) die "usage: $0 up" ;;
esac
