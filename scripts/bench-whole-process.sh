#!/usr/bin/env bash
# Whole-process benchmarks of `lmm-report fit`: CSV load, model construction, optimisation and
# output, as a user runs it. Generates the seeded workloads once, then times RUNS runs of each
# and prints the median wall time and the peak resident memory (GNU time's maximum RSS).
#
#   bash scripts/bench-whole-process.sh [RUNS]      (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=target/release/lmm-report
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$bin workload --design insteval --out "$work/insteval.csv"
$bin workload --design slopes --rows 1000000 --groups 10000 --out "$work/slopes.csv"

measure() { # name, data, formula
  local name=$1 data=$2 formula=$3 times=() rss=0
  for _ in $(seq "$runs"); do
    local out
    out=$( { /usr/bin/time -f '%e %M' "$bin" fit --data "$data" --formula "$formula" --json >"$work/fit.json"; } 2>&1 | tail -n 1)
    times+=("${out% *}")
    local r=${out#* }
    (( r > rss )) && rss=$r
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  local evals
  evals=$(grep -o '"evaluations": [0-9]*' "$work/fit.json" | grep -o '[0-9]*$')
  printf '%-44s median %6.3f s over %d runs, peak RSS %5d MiB, %s evaluations\n' \
    "$name" "$median" "$runs" $((rss / 1024)) "$evals"
}

if ! [ -x /usr/bin/time ]; then
  echo "GNU time is required: apt-get install time" >&2
  exit 2
fi
measure "InstEval-shaped crossed (73,421 rows)" "$work/insteval.csv" "y ~ 1 + service + (1|s) + (1|d) + (1|dept)"
measure "random slopes (1,000,000 rows, 10,000 groups)" "$work/slopes.csv" "y ~ 1 + x + (1 + x|g)"
measure "gasoline" data/gasoline.csv "LCarPCap ~ 1 + Year + LIncomeP + LRPMG + (1|Country)"
