#!/bin/sh
# Installs a Debian package when its binary is missing: Chromium for the browser tests
# (Playwright cannot download its own browsers here), wrk for the ingest benchmark.
# Usage: ensure_debian.sh PACKAGE BINARY. Needs root or sudo.
set -e
package="$1"
binary="$2"
[ -x "$binary" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing $package (Debian package)..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null
