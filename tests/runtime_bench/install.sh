#!/usr/bin/env bash
# Installs what the runtime bench needs from Debian: containerd (with its CRI plugin), the
# CNCF distribution registry (docker-registry) and htpasswd (apache2-utils).
# Idempotent: does nothing when all three are present. Never starts a system service.
# Exits 0 even when installing is impossible, so the bench tests skip with a reason instead.
set -u

need=()
[ -x /usr/bin/containerd ] || need+=(containerd)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)

if [ ${#need[@]} -eq 0 ]; then
    echo "runtime bench: containerd, docker-registry and htpasswd are installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "runtime bench: apt-get not available; cannot install: ${need[*]}"
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd=(sudo -n)
    else
        echo "runtime bench: not root and no passwordless sudo; cannot install: ${need[*]}"
        exit 0
    fi
fi

# Keep the packages' maintainer scripts from starting containerd or the registry as services
# (invoke-rc.d honours policy-rc.d; exit 101 means "action forbidden"). An existing policy
# file is left as it is; ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    if printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null \
        && "${sudo_cmd[@]}" chmod 755 "$policy"; then
        added_policy=1
    fi
fi
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        "${sudo_cmd[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "runtime bench: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_cmd[@]}" apt-get update -qq; then
    echo "runtime bench: apt-get update failed; bench tests will skip"
    exit 0
fi
if ! "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${need[@]}"; then
    echo "runtime bench: apt-get install failed; bench tests will skip"
    exit 0
fi
echo "runtime bench: installed ${need[*]}"
exit 0
