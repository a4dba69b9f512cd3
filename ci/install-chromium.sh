#!/usr/bin/env bash
# Installs Debian's Chromium (and its driver) for the UI browser test. Safe to run again.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "$(/usr/bin/chromium --version 2>/dev/null) already installed"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get -o DPkg::Lock::Timeout=600 update
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium chromium-driver fonts-liberation
