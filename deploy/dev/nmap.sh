#!/usr/bin/env bash
# Make sure nmap (Debian package nmap) is installed: the scan orchestrator runs it, and the
# end-to-end tests scan loopback services with it.
#   deploy/dev/nmap.sh up    install it when missing (needs root and apt-get; else a warning:
#                            the nmap tests then skip, or fail under SOC_REQUIRE_SERVERS=1)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-up}" in
up)
  if command -v nmap >/dev/null; then
    log "$(nmap --version | head -n1) at $(command -v nmap)"
    exit 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "WARNING: nmap is not installed and cannot be installed here (need root and apt-get): apt-get install nmap"
    exit 0
  fi
  # apt_install dies on failure: a CI run that cannot get nmap should say so plainly.
  apt_install nmap
  log "$(nmap --version | head -n1) installed"
  ;;
*) die "usage: $0 up" ;;
esac
