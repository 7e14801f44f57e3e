#!/usr/bin/env bash
# Regenerates the dialect and pass references from the TableGen descriptions
# and copies them into docs/ (commit the result).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MIND_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh" mind-docs
mkdir -p "$root/docs/Dialects"
cp "$build/docs/Dialects/MindOps.md" "$root/docs/Dialects/MindOps.md"
cp "$build/docs/MindPasses.md" "$root/docs/MindPasses.md"
echo "updated docs/Dialects/MindOps.md docs/MindPasses.md"
