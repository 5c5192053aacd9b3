#!/usr/bin/env bash
# Installs what building and testing the viewer needs, idempotently: Debian's chromium (the browser
# the end-to-end test and the benchmark drive; Playwright's own browser download is never used) and
# the front end's npm packages exactly as viewer/package-lock.json pins them (`npm ci`).
# `make up` needs none of this: the built viewer is committed in viewer/dist/ and embedded in the
# binary. Every step checks first, so a second run costs a second.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { echo "missing Debian package chromium (run as root, or install it)" >&2; exit 1; }
    log "installing Debian package chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-liberation
fi

if ! command -v npm >/dev/null 2>&1; then
    # The machines this project targets come with Node.js 20 and npm; elsewhere Debian's will do
    # (the lockfile pins esbuild and TypeScript, so the bundle comes out the same).
    [ "$(id -u)" -eq 0 ] || { echo "npm is missing: install Node.js and npm" >&2; exit 1; }
    log "installing Debian packages nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm
fi

# npm ci wipes node_modules and installs the lockfile; a stamp with the lockfile's hash skips it
# while the lockfile is unchanged.
stamp=viewer/node_modules/.installed-from-lockfile
wanted=$(sha256sum viewer/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    log "installing the viewer's npm packages from viewer/package-lock.json"
    (cd viewer && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" >"$stamp"
fi
log "viewer dependencies ready: $(chromium --version 2>/dev/null | head -1), node $(node --version)"
