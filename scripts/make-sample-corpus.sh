#!/usr/bin/env bash
# Builds a JSONL pretraining corpus (MiniMind's format: one {"text": ...} per
# line) from Debian's `fortunes` (English) and `fortunes-zh` (Chinese poetry)
# packages, so the main command trains on real text.
#
#   scripts/make-sample-corpus.sh [OUT.jsonl]     (default: build/data/sample.jsonl)
#
# The fortune files are in strfile(1) source format: entries separated by
# lines holding only '%'. The fortunes-zh files color titles and authors with
# ANSI escapes, which are stripped. Deterministic: the same packages give the
# same file.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${MIND_BUILD_DIR:-$root/build}/data/sample.jsonl}"
dir="${FORTUNES_DIR:-/usr/share/games/fortunes}"

# English: the `fortunes` package; Chinese: the `fortunes-zh` package.
en=(art ascii-art computers cookie debian definitions disclaimer drugs education
    ethnic food fortunes goedel humorists kids knghtbrd law linux linuxcookie
    literature love magic medicine men-women miscellaneous news paradoxum people
    perl pets platitudes politics pratchett science songs-poems sports startrek
    tao translate-me wisdom work zippy)
zh=(tang300 song100 chinese)

files=()
for name in "${en[@]}" "${zh[@]}"; do
  if [ -f "$dir/$name" ]; then files+=("$dir/$name"); fi
done
if [ ${#files[@]} -eq 0 ]; then
  echo "make-sample-corpus: no fortune files in $dir (run scripts/setup.sh)" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
python3 - "$out" "${files[@]}" <<'EOF'
import json, os, re, sys

out, paths = sys.argv[1], sys.argv[2:]
ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
docs = 0
with open(out + ".tmp", "w", encoding="utf-8") as f:
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as src:
            entries = re.split(r"^%\s*$", src.read(), flags=re.M)
        for entry in entries:
            # Repeated: the files hold nested, broken escapes such as
            # "\x1b[;\x1b[34;1mm".
            text, n = ansi.subn("", entry)
            while n:
                text, n = ansi.subn("", text)
            text = text.strip("\n").rstrip()
            if text.strip():
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
                docs += 1
os.replace(out + ".tmp", out)
print(f"make-sample-corpus: {docs} documents from {len(paths)} files -> {out}")
EOF
