#!/usr/bin/env bash
# Refreshes sql/prices/litellm-snapshot.json, the model prices `agent-trace prices import` (and
# `agent-trace up`) load when given no file, and extension/sql/prices_snapshot.sql, the same prices
# as the rows CREATE EXTENSION loads (written by ingest's prices::builtin_prices_sql, the importer's
# own mapping). It is a dated subset of LiteLLM's
# model_prices_and_context_window_backup.json, taken from the `litellm` wheel on PyPI, in the same
# format, so the importer reads it exactly as it reads the full file:
#   * direct providers only: litellm_provider openai, anthropic, gemini (the Gemini API);
#   * token-priced models only: mode chat, responses, completion or embedding, with an input or
#     output price per token;
#   * of each model, only the keys the importer uses: litellm_provider, mode and the per-token prices
#     (input, output, cache read, cache write, reasoning, and their long-context "_above_Nk_tokens"
#     variants).
# The top-level "agent_trace_snapshot" entry records the source and its date (the date of the JSON
# file inside the wheel); the importer takes them as the default --source and --date.
#
# Usage: scripts/update-price-snapshot.sh [LITELLM_VERSION]   (default: the latest on PyPI)
# Then review the diff, run `cargo test -p ingest --test prices`, and commit both files.
# The built-in prices are part of the extension's install script: once a version is released, new
# ones belong to the next version, whose upgrade script must replace the built-in rows (delete those
# of the old snapshot, then load the new file); scripts/test-upgrade.sh compares them with a fresh
# install's.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-}
out=sql/prices/litellm-snapshot.json
tmp=$(mktemp -d "${TMPDIR:-/tmp}/price-snapshot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "==> downloading litellm${version:+ $version} from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "litellm${version:+==$version}"
wheel=$(ls "$tmp"/litellm-*.whl)

mkdir -p "$(dirname "$out")"
python3 - "$wheel" "$out" <<'PY'
import json, re, sys, zipfile, os

wheel, out = sys.argv[1], sys.argv[2]
member = "litellm/model_prices_and_context_window_backup.json"
version = os.path.basename(wheel).split("-")[1]
with zipfile.ZipFile(wheel) as z:
    info = z.getinfo(member)
    models = json.loads(z.read(member))
date = "%04d-%02d-%02d" % info.date_time[:3]

PROVIDERS = {"openai", "anthropic", "gemini"}
MODES = {"chat", "responses", "completion", "embedding"}
PRICE = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost|output_cost_per_reasoning_token)(_above_\d+k_tokens)?$")

snapshot = {}
for name, entry in models.items():
    if not isinstance(entry, dict) or entry.get("litellm_provider") not in PROVIDERS:
        continue
    if entry.get("mode") not in MODES:
        continue
    if "input_cost_per_token" not in entry and "output_cost_per_token" not in entry:
        continue
    kept = {k: v for k, v in entry.items() if PRICE.match(k)}
    kept["litellm_provider"] = entry["litellm_provider"]
    kept["mode"] = entry["mode"]
    snapshot[name] = dict(sorted(kept.items()))

result = {
    "agent_trace_snapshot": {
        "source": f"litellm {version} {os.path.basename(member)}",
        "date": date,
        "providers": sorted(PROVIDERS),
        "modes": sorted(MODES),
        "models": len(snapshot),
        "refresh": "scripts/update-price-snapshot.sh",
    }
}
result.update(sorted(snapshot.items()))
with open(out, "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
print(f"==> {out}: {len(snapshot)} models from litellm {version} (file dated {date})")
PY

echo "==> extension/sql/prices_snapshot.sql: the built-in prices, from the new snapshot"
AGENT_TRACE_WRITE_BUILTIN_PRICES=1 cargo test --quiet -p ingest --lib the_extension_loads_the_snapshot
