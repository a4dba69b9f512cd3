#!/usr/bin/env bash
# Podman for `make images` and the container tests (tests/containers), from Debian's packages,
# set up for a root session inside a sandbox: runc with cgroupfs, a file events log, and
# default ulimits no higher than this machine grants (runc cannot raise a hard limit here).
# debootstrap builds the stand-in base images (ci/standin/README.md).
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq podman runc debootstrap >/dev/null
fi
conf=/etc/containers/containers.conf
if ! grep -q '^# proyecto4' "$conf" 2>/dev/null; then
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    pid_max=$(cat /proc/sys/kernel/pid_max)
    [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ] && nproc=$pid_max
    mkdir -p /etc/containers
    cat > "$conf" <<CONF
# proyecto4: podman as root inside a sandbox (ci/install-podman.sh)
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi
podman --version
