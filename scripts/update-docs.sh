#!/usr/bin/env bash
# Regenerates the dialect and pass references from the TableGen descriptions
# and copies them into docs/ (commit the result).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MIND_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh" mind-docs
mkdir -p "$root/docs/Dialects"
for doc in Dialects/MindOps.md Dialects/PlanOps.md MindPasses.md \
    MindConversionPasses.md; do
  cp "$build/docs/$doc" "$root/docs/$doc"
  echo "updated docs/$doc"
done
