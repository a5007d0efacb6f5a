#!/bin/sh
# Whole-process timings of issue 11's post-fit steps (median of 5 runs, release build), and
# with --with-r lme4/lmerTest's on the same machine in the same run
# (scripts/r/06_inference_timings.R). Run from the repository root after `cargo build --release`:
#   sh scripts/bench_inference.sh [--with-r]
# CARGO_TARGET_DIR is honoured.
set -e
BIN="${CARGO_TARGET_DIR:-target}/release/lmm-report"
SLEEP='Reaction ~ Days + (1 + Days | Subject)'
IE='y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)'
median5() {
  # median5 LABEL CMD...: five runs, prints the median elapsed seconds.
  label="$1"; shift
  for i in 1 2 3 4 5; do
    s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
    echo "$e - $s" | bc -l
  done | sort -n | sed -n 3p | awk -v l="$label" '{ printf "%-52s %8.3f s\n", l, $1 }'
}
median5 "fit sleepstudy REML (ddf none)" "$BIN" fit --data data/sleepstudy.csv --formula "$SLEEP" --reml --ddf none
median5 "fit sleepstudy REML + Satterthwaite" "$BIN" fit --data data/sleepstudy.csv --formula "$SLEEP" --reml
median5 "fit sleepstudy REML + Kenward-Roger" "$BIN" fit --data data/sleepstudy.csv --formula "$SLEEP" --reml --ddf kenward-roger
median5 "fit sleepstudy REML + profile intervals" "$BIN" fit --data data/sleepstudy.csv --formula "$SLEEP" --reml --ddf none --confint profile
median5 "bootstrap 10000 sleepstudy, 2 threads" env RAYON_NUM_THREADS=2 "$BIN" fit --data data/sleepstudy.csv --formula "$SLEEP" --reml --ddf none --confint bootstrap --nsim 10000
median5 "bootstrap 10000 sleepstudy, 1 thread" env RAYON_NUM_THREADS=1 "$BIN" fit --data data/sleepstudy.csv --formula "$SLEEP" --reml --ddf none --confint bootstrap --nsim 10000
median5 "fit InstEval ML (ddf none)" "$BIN" fit --data data/r/InstEval.csv --formula "$IE" --ddf none
median5 "fit InstEval ML + Satterthwaite" "$BIN" fit --data data/r/InstEval.csv --formula "$IE" --ddf satterthwaite
if [ "$1" = "--with-r" ]; then
  Rscript scripts/r/06_inference_timings.R
fi
