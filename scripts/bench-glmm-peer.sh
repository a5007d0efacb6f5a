#!/usr/bin/env bash
# VerbAgg's binomial Laplace fit, whole process, against the Rust crate glmm 0.8.0.
#
#   bash scripts/bench-glmm-peer.sh [RUNS]
#
# Builds the peer (scripts/peer/glmm_0_8_0.rs) in a scratch crate under $PEER_DIR (default
# target/glmm-peer), twice: as glmm's users get it (the system allocator) and linked with
# mimalloc, the allocator lmm-report's binary uses, so that the allocator's share of the
# difference is visible. Then runs the three binaries interleaved RUNS times (default 31) and
# prints each one's median and minimum wall time and the ratios to lmm-report's median.
# Needs network access to crates.io the first time (glmm, mimalloc).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-31}
peer_dir=${PEER_DIR:-target/glmm-peer}
data=data/r/VerbAgg.csv
formula='r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)'

cargo build --release --quiet
for variant in system mimalloc; do
    crate="$peer_dir/$variant"
    mkdir -p "$crate/src"
    {
        printf '[package]\nname = "glmm-peer-%s"\nversion = "0.1.0"\nedition = "2021"\n\n' "$variant"
        printf '[workspace]\n\n[dependencies]\nglmm = "=0.8.0"\n'
        if [ "$variant" = mimalloc ]; then
            printf 'mimalloc = { version = "0.1", default-features = false }\n'
        fi
    } > "$crate/Cargo.toml"
    if [ "$variant" = mimalloc ]; then
        { printf '#[global_allocator]\nstatic GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;\n\n'
          grep -v '^//!' scripts/peer/glmm_0_8_0.rs; } > "$crate/src/main.rs"
    else
        cp scripts/peer/glmm_0_8_0.rs "$crate/src/main.rs"
    fi
    cargo build --release --quiet --manifest-path "$crate/Cargo.toml" --target-dir "$peer_dir/target"
done

ours=(target/release/lmm-report fit --data "$data" --family binomial --formula "$formula")
peer="$peer_dir/target/release/glmm-peer-system"
peer_mi="$peer_dir/target/release/glmm-peer-mimalloc"
echo "glmm 0.8.0: $("$peer" "$data")"
echo "lmm-report: $("${ours[@]}" --json | grep '"loglik"')"

times=$(mktemp)
trap 'rm -f "$times"' EXIT
wall() { # name, command...: one wall-clock time in ms
    local name=$1; shift
    local t0 t1
    t0=$(date +%s%N); "$@" > /dev/null 2>&1; t1=$(date +%s%N)
    echo "$name $(( (t1 - t0) / 1000 ))" >> "$times"
}
for _ in $(seq "$runs"); do
    wall lmm-report "${ours[@]}"
    wall glmm-0.8.0 "$peer" "$data"
    wall glmm-0.8.0+mimalloc "$peer_mi" "$data"
done
awk '
    { t[$1, ++n[$1]] = $2 / 1000 }
    END {
        split("lmm-report glmm-0.8.0 glmm-0.8.0+mimalloc", names, " ")
        for (k = 1; k <= 3; k++) {
            name = names[k]; m = n[name]
            for (i = 1; i <= m; i++) v[i] = t[name, i]
            for (i = 2; i <= m; i++) { x = v[i]; j = i - 1; while (j > 0 && v[j] > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
            med[name] = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
            printf "%-22s median %6.1f ms   min %6.1f ms\n", name, med[name], v[1]
        }
        printf "glmm 0.8.0 / lmm-report: %.2fx;  with mimalloc: %.2fx\n", med["glmm-0.8.0"] / med["lmm-report"], med["glmm-0.8.0+mimalloc"] / med["lmm-report"]
    }' "$times"
