//! Convergence diagnostics for several chains of one scalar: split-R̂, the effective sample size
//! by Geyer's initial monotone sequence, its rank-normalised ("bulk") form, and the helpers they
//! need (quantiles, the normal quantile function).
//!
//! Every function is pure and serial: the same draws give the same bits whatever the thread count.
//! Chains are slices of equal length; a function that cannot give an answer (fewer than the draws
//! it needs, unequal lengths, a non-finite draw) returns NaN, like the `posterior` R package.
//!
//! References: Gelman et al., *Bayesian Data Analysis* (3rd ed., 2013), §11.4–11.5 (split-R̂,
//! effective sample size); Geyer (1992), "Practical Markov chain Monte Carlo", *Statistical
//! Science* 7 (initial positive and monotone sequences); Vehtari, Gelman, Simpson, Carpenter and
//! Bürkner (2021), "Rank-normalization, folding, and localization: an improved R̂", *Bayesian
//! Analysis* 16 (bulk-ESS, and the ESS algorithm as Stan and `posterior` compute it).

/// True when `chains` is non-empty, every chain has `min_len` or more draws, all chains have the
/// same length, and every draw is finite.
fn well_formed(chains: &[&[f64]], min_len: usize) -> bool {
    let Some(first) = chains.first() else {
        return false;
    };
    let n = first.len();
    n >= min_len
        && chains.iter().all(|c| c.len() == n)
        && chains.iter().all(|c| c.iter().all(|x| x.is_finite()))
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (denominator n − 1).
fn sample_variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

fn is_constant(chains: &[&[f64]]) -> bool {
    let first = chains[0][0];
    chains.iter().all(|c| c.iter().all(|&x| x == first))
}

/// Splits every chain into its first and second halves (for an odd length the middle draw is
/// dropped), giving twice as many chains of half the length, in the order
/// chain 0 first half, chain 0 second half, chain 1 first half, …
pub fn split_chains<'a>(chains: &[&'a [f64]]) -> Vec<&'a [f64]> {
    chains
        .iter()
        .flat_map(|c| {
            let half = c.len() / 2;
            [&c[..half], &c[c.len() - half..]]
        })
        .collect()
}

/// The potential scale reduction factor R̂ of BDA3 (eq. 11.4) on the chains as given:
/// √(var⁺ / W) with W the mean within-chain variance, B/n the variance of the chain means and
/// var⁺ = (n − 1)/n · W + B/n. Needs two or more chains of two or more draws; constant draws
/// give 1.
pub fn rhat(chains: &[&[f64]]) -> f64 {
    if chains.len() < 2 || !well_formed(chains, 2) {
        return f64::NAN;
    }
    if is_constant(chains) {
        return 1.0;
    }
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let within = chains.iter().map(|c| sample_variance(c)).sum::<f64>() / chains.len() as f64;
    let between_over_n = sample_variance(&means);
    ((n - 1.0) / n + between_over_n / within).sqrt()
}

/// Split-R̂ (BDA3 §11.4): [`rhat`] on [`split_chains`], so that a trend within a chain shows
/// as disagreement between its halves. Needs four or more draws per chain.
pub fn split_rhat(chains: &[&[f64]]) -> f64 {
    if !well_formed(chains, 4) {
        return f64::NAN;
    }
    rhat(&split_chains(chains))
}

/// Effective sample size of the chains as given (no splitting, no rank transform), as Stan and
/// the `posterior` package compute it.
///
/// The lag-t autocorrelation of the combined chains is
/// ρ̂_t = 1 − (W − ā_t) / var⁺, where ā_t is the mean over chains of the biased (divided by n)
/// lag-t autocovariance, W = ā_0 · n/(n − 1) and var⁺ = ā_0 + (variance of the chain means).
/// This is BDA3's variogram form 1 − V_t / (2 var⁺) with V_t/2 written as W − ā_t, so that
/// disagreement between chains lowers the ESS. Pairs Γ_k = ρ̂_{2k} + ρ̂_{2k+1} are summed
/// while positive (Geyer's initial positive sequence), made non-increasing (initial monotone
/// sequence), and τ̂ = −1 + 2 Σ ρ̂_t (+ the last positive even term, which reduces the variance
/// for antithetic chains), floored at 1/log10(mn); the ESS is mn/τ̂. Needs three or more draws
/// per chain; constant draws give mn.
pub fn ess(chains: &[&[f64]]) -> f64 {
    if !well_formed(chains, 3) {
        return f64::NAN;
    }
    let m = chains.len();
    let n = chains[0].len();
    let total = (m * n) as f64;
    if is_constant(chains) {
        return total;
    }
    let nf = n as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    // Mean over chains of the lag-t autocovariance, each divided by n (Geyer's biased form).
    let acov = |t: usize| -> f64 {
        chains
            .iter()
            .zip(&means)
            .map(|(c, &mu)| {
                c[..n - t]
                    .iter()
                    .zip(&c[t..])
                    .map(|(a, b)| (a - mu) * (b - mu))
                    .sum::<f64>()
                    / nf
            })
            .sum::<f64>()
            / m as f64
    };
    let acov0 = acov(0);
    let mean_var = acov0 * nf / (nf - 1.0);
    let mut var_plus = acov0;
    if m > 1 {
        var_plus += sample_variance(&means);
    }
    let rho_at = |t: usize| 1.0 - (mean_var - acov(t)) / var_plus;

    // Geyer's initial positive sequence.
    let mut rho = vec![0.0; n];
    let mut t = 0;
    let mut rho_even = 1.0;
    let mut rho_odd = rho_at(1);
    rho[0] = rho_even;
    rho[1] = rho_odd;
    while t + 5 < n && !(rho_even + rho_odd).is_nan() && rho_even + rho_odd > 0.0 {
        t += 2;
        rho_even = rho_at(t);
        rho_odd = rho_at(t + 1);
        if rho_even + rho_odd >= 0.0 {
            rho[t] = rho_even;
            rho[t + 1] = rho_odd;
        }
    }
    let max_t = t;
    // Kept for the improved (antithetic-safe) estimate below.
    if rho_even > 0.0 {
        rho[max_t] = rho_even;
    }

    // Geyer's initial monotone sequence.
    let mut t = 0;
    while t + 4 <= max_t {
        t += 2;
        if rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1] {
            rho[t] = (rho[t - 2] + rho[t - 1]) / 2.0;
            rho[t + 1] = rho[t];
        }
    }

    let tau = -1.0 + 2.0 * rho[..max_t].iter().sum::<f64>() + rho[max_t];
    let tau = tau.max(1.0 / total.log10());
    total / tau
}

/// Rank normalisation (Vehtari et al. 2021, §4): every draw of every chain replaced by
/// Φ⁻¹((r − 3/8) / (S + 1/4)), r its rank among all S draws (ties get their average rank).
/// The result has the chains' shape.
pub fn rank_normalize(chains: &[&[f64]]) -> Vec<Vec<f64>> {
    let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let s = pooled.len();
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| pooled[a].total_cmp(&pooled[b]));
    let mut ranks = vec![0.0; s];
    let mut start = 0;
    while start < s {
        let mut end = start + 1;
        while end < s && pooled[order[end]] == pooled[order[start]] {
            end += 1;
        }
        // Ranks are 1-based: positions start..end hold ranks start+1..=end.
        let average = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = average;
        }
        start = end;
    }
    let denom = s as f64 + 0.25;
    let mut z = ranks
        .into_iter()
        .map(|r| normal_quantile((r - 0.375) / denom));
    chains
        .iter()
        .map(|c| z.by_ref().take(c.len()).collect())
        .collect()
}

/// Bulk effective sample size (Vehtari et al. 2021): [`ess`] of the rank-normalised
/// ([`rank_normalize`]) split chains ([`split_chains`]). It measures how well the bulk of the
/// distribution is explored, and unlike [`ess`] of the raw draws it exists for heavy tails.
/// Needs six or more draws per chain.
pub fn bulk_ess(chains: &[&[f64]]) -> f64 {
    if !well_formed(chains, 6) {
        return f64::NAN;
    }
    let z = rank_normalize(chains);
    let z: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
    ess(&split_chains(&z))
}

/// The p-quantile of sorted data by linear interpolation between order statistics (R's default,
/// type 7); NaN for no data.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Evaluates a polynomial with coefficients in increasing powers at `x` (Horner).
fn poly(coefficients: &[f64], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

/// The standard normal quantile function Φ⁻¹(p), by Wichura's algorithm AS 241 (PPND16,
/// *Applied Statistics* 37, 1988), accurate to about 1 part in 10¹⁶. Gives ∓∞ at 0 and 1 and
/// NaN outside [0, 1].
// The coefficients are quoted digit for digit as Wichura published them.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -z
    } else {
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    fn normals(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
    }

    /// A stationary AR(1) chain x_t = ρ x_{t−1} + √(1 − ρ²) e_t started from its stationary
    /// distribution.
    fn ar1(seed: u64, n: usize, rho: f64) -> Vec<f64> {
        let e = normals(seed, n);
        let s = (1.0 - rho * rho).sqrt();
        let mut x = Vec::with_capacity(n);
        let mut prev = e[0];
        x.push(prev);
        for &et in &e[1..] {
            prev = rho * prev + s * et;
            x.push(prev);
        }
        x
    }

    fn slices(chains: &[Vec<f64>]) -> Vec<&[f64]> {
        chains.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn normal_quantile_matches_known_values_and_inverts_the_cdf() {
        let known = [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.841_344_746_068_542_9, 1.0),
            (0.001, -3.090_232_306_167_813_5),
            (1e-10, -6.361_340_902_404_056),
            (1e-300, -37.047_096_299_361_2),
        ];
        for (p, z) in known {
            let got = normal_quantile(p);
            assert!(
                (got - z).abs() <= 1e-13 * z.abs().max(1.0),
                "Φ⁻¹({p}) = {got}, not {z}"
            );
        }
        // Round trip through Φ(z) = erfc(−z/√2)/2 across all three regions of AS 241.
        for k in 1..200 {
            let p = f64::from(k) / 200.0;
            for p in [p, p * 1e-8, 1.0 - p * 1e-8] {
                // Compare the smaller tail, Φ(−|z|) against min(p, 1 − p) (exact for p ≥ ½).
                let z = normal_quantile(p);
                let tail = 0.5 * lmm_engine::erfc(z.abs() / std::f64::consts::SQRT_2);
                let expected = p.min(1.0 - p);
                assert!(
                    (tail - expected).abs() <= 1e-13 * expected,
                    "Φ(Φ⁻¹({p})) tail {tail}, not {expected}"
                );
            }
            let (upper, lower) = (normal_quantile(1.0 - p), normal_quantile(p));
            assert!((upper + lower).abs() <= 1e-14 * upper.abs().max(1.0));
        }
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan() && normal_quantile(f64::NAN).is_nan());
    }

    #[test]
    fn iid_normal_draws_have_rhat_one_and_ess_near_n() {
        let chains: Vec<Vec<f64>> = (0..4).map(|k| normals(100 + k, 1000)).collect();
        let c = slices(&chains);
        let r = split_rhat(&c);
        assert!((r - 1.0).abs() < 0.01, "split-R̂ {r}");
        // The ESS estimate of 4000 iid draws has a Monte Carlo sd of a few percent.
        for e in [ess(&c), bulk_ess(&c)] {
            assert!((e / 4000.0 - 1.0).abs() < 0.12, "ESS {e}");
        }
    }

    #[test]
    fn ar1_chains_have_the_known_ess() {
        for (rho, tolerance) in [(0.5, 0.1), (0.9, 0.2)] {
            let chains: Vec<Vec<f64>> = (0..4).map(|k| ar1(200 + k, 10_000, rho)).collect();
            let c = slices(&chains);
            let expected = 40_000.0 * (1.0 - rho) / (1.0 + rho);
            for e in [ess(&c), bulk_ess(&c)] {
                assert!(
                    (e / expected - 1.0).abs() < tolerance,
                    "ρ = {rho}: ESS {e}, expected {expected}"
                );
            }
            assert!((split_rhat(&c) - 1.0).abs() < 0.01);
        }
    }

    #[test]
    fn antithetic_chains_have_ess_above_n_within_the_cap() {
        let chains: Vec<Vec<f64>> = (0..4).map(|k| ar1(300 + k, 2000, -0.5)).collect();
        let c = slices(&chains);
        let e = ess(&c);
        // The true value is 8000 · 1.5/0.5 = 24000; the estimator caps at S·log10(S) ≈ 31000.
        assert!(
            e > 8000.0 && e <= 8000.0 * 8000f64.log10() + 1e-6,
            "ESS {e}"
        );
    }

    #[test]
    fn chains_stuck_at_different_means_have_large_rhat() {
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                let shift = if k % 2 == 0 { 0.0 } else { 3.0 };
                normals(400 + k, 500)
                    .into_iter()
                    .map(|x| x + shift)
                    .collect()
            })
            .collect();
        let c = slices(&chains);
        assert!(split_rhat(&c) > 1.5, "split-R̂ {}", split_rhat(&c));
        assert!(bulk_ess(&c) < 100.0, "bulk-ESS {}", bulk_ess(&c));
    }

    #[test]
    fn split_rhat_sees_a_trend_within_one_chain() {
        let trend: Vec<f64> = normals(500, 1000)
            .iter()
            .enumerate()
            .map(|(i, x)| x + 4.0 * i as f64 / 1000.0)
            .collect();
        let c = [trend.as_slice()];
        assert!(rhat(&c).is_nan(), "plain R̂ needs two chains");
        assert!(split_rhat(&c) > 1.3, "split-R̂ {}", split_rhat(&c));
    }

    #[test]
    fn degenerate_inputs_give_nan_or_the_documented_constants() {
        let constant = vec![2.0; 10];
        let c = [constant.as_slice(), constant.as_slice()];
        assert_eq!(split_rhat(&c), 1.0);
        assert_eq!(ess(&c), 20.0);
        let short = [1.0, 2.0];
        assert!(ess(&[&short]).is_nan() && split_rhat(&[&short]).is_nan());
        let ragged = [&[1.0, 2.0, 3.0, 4.0][..], &[1.0, 2.0, 3.0]];
        assert!(ess(&ragged).is_nan() && split_rhat(&ragged).is_nan());
        assert!(ess(&[&[1.0, f64::NAN, 3.0, 4.0]]).is_nan());
        assert!(ess(&[]).is_nan());
    }

    #[test]
    fn splitting_drops_the_middle_of_odd_chains() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0];
        let split = split_chains(&[&a, &b]);
        assert_eq!(
            split,
            [&[1.0, 2.0][..], &[4.0, 5.0], &[6.0, 7.0], &[8.0, 9.0]]
        );
    }

    #[test]
    fn rank_normalisation_averages_ties_and_keeps_the_shape() {
        let a = [3.0, 1.0];
        let b = [1.0, 2.0, 5.0];
        let z = rank_normalize(&[&a, &b]);
        assert_eq!(z.len(), 2);
        assert_eq!((z[0].len(), z[1].len()), (2, 3));
        // Ranks: 3.0 → 4, the two 1.0s → 1.5 each, 2.0 → 3, 5.0 → 5; S = 5.
        let expect = |r: f64| normal_quantile((r - 0.375) / 5.25);
        assert_eq!(z[0], vec![expect(4.0), expect(1.5)]);
        assert_eq!(z[1], vec![expect(1.5), expect(3.0), expect(5.0)]);
        // The middle rank maps to 0.
        assert_eq!(expect(3.0), 0.0);
    }

    #[test]
    fn quantiles_are_type_seven() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.25), 1.75);
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert_eq!(quantile_sorted(&[7.0], 0.975), 7.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }
}
