#!/usr/bin/env bash
# Puts the LibTorch-only build's header-only libraries (toml++, nlohmann-json, CLI11) into one
# folder that travels with the repo to a GPU host: the Debian packages unpacked with dpkg -x, or,
# where apt cannot download them, the same files copied from the installed packages.
#   scripts/gpu/pack-headers.sh [DIR]      # default .gpu-deps/headers (git-ignored)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-.gpu-deps/headers}
pkgs=(libtomlplusplus-dev nlohmann-json3-dev libcli11-dev)
rm -rf "$out" && mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if (cd "$tmp" && apt-get download "${pkgs[@]}" >/dev/null 2>&1); then
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$out"; done
  echo "unpacked: $(cd "$tmp" && ls *.deb | tr '\n' ' ')"
else
  for p in "${pkgs[@]}"; do
    dpkg -L "$p" | grep '^/usr/include/.*\.\(h\|hpp\|inl\)$' | while read -r f; do
      mkdir -p "$out$(dirname "$f")" && cp "$f" "$out$f"
    done
  done
  echo "copied from installed packages: ${pkgs[*]}"
fi
rm -rf "$out/usr/lib" "$out/usr/share"  # only headers travel; toml++ is used header-only
du -sh "$out"
