#!/usr/bin/env bash
# Make sure nmap (Debian package nmap) is installed: the scan orchestrator runs it, and the
# end-to-end tests scan loopback services with it.
#   deploy/dev/nmap.sh up    install it when missing (needs root and apt-get; else a warning:
#                            the nmap tests then skip, or fail under SOC_REQUIRE_SERVERS=1)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

version() { nmap --version | head -n1; }

case "${1:-up}" in
up) ensure_package nmap nmap ;;
*) die "usage: $0 up" ;;
esac
