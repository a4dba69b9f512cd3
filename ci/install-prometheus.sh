#!/usr/bin/env bash
# Installs Debian's `prometheus` package for the observability tests: it brings promtool
# (rule checks and rule unit tests) and the Prometheus server binary, which the tests start
# themselves on a free port with their own data folder. The package's own service must not
# run (it would take port 9090 and scrape nothing useful), so service starts are refused
# while apt runs. Safe to run again.
set -euo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    echo "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') already installed"
    exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# policy-rc.d answering 101 tells invoke-rc.d (used by the package's postinst) not to start
# anything; only add it when the machine has none, and only for the install.
added_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    added_policy=yes
fi
trap '[ -z "$added_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d' EXIT

$sudo apt-get -o DPkg::Lock::Timeout=600 update
# No recommends: node-exporter would be another service we don't want.
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus

# On machines with systemd the unit is enabled at install: stop and disable it.
if [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now prometheus.service || true
fi

promtool --version | head -1
