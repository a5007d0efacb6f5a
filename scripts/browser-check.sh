#!/usr/bin/env bash
# browser-check.sh — open the self-contained HTML report in headless Chromium, screenshot it at
# desktop and phone width, and fail if the page is broken.
#
# Usage: scripts/browser-check.sh [options] [HTML [PNG_DIR]]
#   HTML      page to check                    (default: output/report.html)
#   PNG_DIR   where the screenshots are written (default: a new temporary directory)
# Options:
#   --allow-skip         exit 0 with "browser check skipped: chromium not installed" when no
#                        Chromium is found (without it that case exits 2)
#   --no-content-check   do not require visible MathML or SVG on the page
#   --strict             also fail on warnings (console warnings, horizontal overflow)
#   --min-ink FRACTION   least share of pixels that differ from the dominant colour before a
#                        screenshot counts as blank (default 0.002)
#   --timeout SECONDS    per-page load limit (default 60)
#   -h, --help           this text
# Environment: CHROMIUM=/path/to/binary overrides the browser looked up on PATH
# (chromium, then chromium-browser).
#
# The checks themselves are in scripts/browser/check.mjs (see its header), driven by the pinned
# playwright-core of scripts/browser/package.json, installed here with `npm ci` on first use.
# Needs: chromium (Debian: `apt-get install chromium`), node and npm.
# Exit codes: 0 all checks passed (or skipped with --allow-skip); 1 a check failed;
# 2 the check could not run (bad usage, missing file, no Chromium, no node, browser failure).
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

here="$(cd "$(dirname "$0")" && pwd)"
allow_skip=0
pass=()
positional=()
while (($#)); do
  case "$1" in
    --allow-skip) allow_skip=1 ;;
    --no-content-check | --strict) pass+=("$1") ;;
    --min-ink | --timeout) pass+=("$1" "${2:?$1 needs a value}"); shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "browser-check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
if ((${#positional[@]} > 2)); then
  echo "browser-check: too many arguments" >&2
  exit 2
fi
html="${positional[0]:-output/report.html}"
png_dir="${positional[1]:-}"

browser="${CHROMIUM:-}"
if [[ -z "$browser" ]]; then
  browser="$(command -v chromium || command -v chromium-browser || true)"
fi
if [[ -z "$browser" || ! -x "$browser" ]]; then
  if ((allow_skip)); then
    echo "browser check skipped: chromium not installed"
    exit 0
  fi
  echo "browser-check: chromium not installed (apt-get install chromium), or pass --allow-skip" >&2
  exit 2
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "browser-check: node and npm are required" >&2
  exit 2
fi
if [[ ! -f "$html" ]]; then
  echo "browser-check: FAIL: $html does not exist" >&2
  exit 2
fi
if [[ -z "$png_dir" ]]; then
  png_dir="$(mktemp -d "${TMPDIR:-/tmp}/browser-check.XXXXXX")"
fi

# The pinned driver, installed exactly as locked (no network once node_modules is current).
if [[ ! -d "$here/browser/node_modules/playwright-core" ||
  "$here/browser/package-lock.json" -nt "$here/browser/node_modules/.package-lock.json" ]]; then
  npm ci --prefix "$here/browser" --no-audit --no-fund --loglevel=error >&2 || {
    echo "browser-check: npm ci failed in scripts/browser" >&2
    exit 2
  }
fi

exec node "$here/browser/check.mjs" "$html" "$png_dir" "$browser" "${pass[@]}"
