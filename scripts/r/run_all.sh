#!/bin/sh
# Regenerate everything (sequential, one R process at a time). Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output).
set -e
cd "$(dirname "$0")/.."
mkdir -p data reference logs tmp
Rscript scripts/01_export_data.R      > logs/01_export_data.txt 2>&1
Rscript scripts/02_lme4_formula.R     > logs/logs_02_lme4_formula.txt 2>&1
Rscript scripts/03_lmertest.R         > logs/logs_03_lmertest.txt 2>&1
Rscript scripts/04_glmer.R            > logs/logs_04_glmer.txt 2>&1
Rscript scripts/05_timings.R          > logs/logs_05_timings.txt 2>&1   # calls 05b under timeout 600
Rscript scripts/08_glmer_bernoulli.R  > logs/logs_08_glmer_bernoulli.txt 2>&1
Rscript scripts/09_glmer_nb.R         > logs/logs_09_glmer_nb.txt 2>&1
Rscript scripts/10_glmer_gamma.R      > logs/logs_10_glmer_gamma.txt 2>&1
