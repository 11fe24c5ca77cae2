#!/usr/bin/env bash
# Command-line tools the tests call (not servers): poppler-utils' pdftotext, pdfinfo and
# pdftoppm check the PDF reports (query-api/reporting/render).
#   deploy/dev/tools.sh up    install what is missing (needs root and apt-get; else a warning:
#                             the PDF checks then skip, or fail under CI=true / SOC_REQUIRE_SERVERS=1)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

version() { pdftotext -v 2>&1 | head -n1; }

case "${1:-up}" in
up) ensure_package poppler-utils pdftotext pdfinfo pdftoppm ;;
*) die "usage: $0 up" ;;
esac
