#!/usr/bin/env bash
# The viewer's committed bundle (viewer/dist/, embedded in the binary) must be exactly what its
# sources and viewer/package-lock.json build: type-check the sources, build them again into a
# scratch folder, and fail on any difference. After changing viewer/src: `cd viewer && npm run build`
# and commit viewer/dist with it.
set -euo pipefail
cd "$(dirname "$0")/../viewer"

log() { printf '==> %s\n' "$*"; }

log "type-checking the viewer (tsc)"
npx --no-install tsc --noEmit
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
log "rebuilding the viewer into $scratch"
node build.mjs "$scratch/dist"
if ! diff -r dist "$scratch/dist" >/dev/null; then
    diff -r dist "$scratch/dist" | head -20 >&2 || true
    echo "viewer/dist differs from what viewer/src builds: run (cd viewer && npm run build) and commit viewer/dist" >&2
    exit 1
fi
log "viewer/dist is what viewer/src and package-lock.json build"
