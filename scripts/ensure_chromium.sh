#!/bin/sh
# Installs Debian's Chromium for the browser tests when it is missing (Playwright cannot
# download its own browsers here). Needs root or sudo.
set -e
[ -x /usr/bin/chromium ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing chromium (Debian package) for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
