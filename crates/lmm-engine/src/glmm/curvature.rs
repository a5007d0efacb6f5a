//! The profiled Laplace deviance `D̃(θ̃)` and its exact gradient (canonical links, β
//! profiled) at several points at once, each evaluated from a copy of the model's current
//! state, on two threads: the shifted points of the certificate's finite-difference Hessian,
//! which are independent of each other.

use super::model::GeneralizedLinearMixedModel;

impl GeneralizedLinearMixedModel {
    /// The profiled deviance and its gradient at each of `points` (internal θ̃), each
    /// evaluation warm-started from a copy of the current state, which is left as it is: on
    /// two threads, the points split between them by index parity (so the results do not
    /// depend on the machine's core count). A failed evaluation is +∞.
    pub(crate) fn evaluate_in_parallel(&mut self, points: &[Vec<f64>]) -> Vec<(f64, Vec<f64>)> {
        let run = |model: &Self, part: usize| -> Vec<(usize, f64, Vec<f64>)> {
            let mut model = model.clone();
            let mut failure = None;
            (part..points.len())
                .step_by(2)
                .map(|i| {
                    let mut g = vec![0.0; points[i].len()];
                    let v = model.deviance_profiled_internal(&points[i], &mut g, &mut failure);
                    (i, v, g)
                })
                .collect()
        };
        let model = &*self;
        let (even, odd) = if points.len() > 1 {
            std::thread::scope(|scope| {
                let odd = scope.spawn(|| run(model, 1));
                let even = run(model, 0);
                (even, odd.join().unwrap_or_default())
            })
        } else {
            (run(model, 0), Vec::new())
        };
        self.evaluations += points.len();
        let mut out =
            vec![(f64::INFINITY, vec![0.0; points.first().map_or(0, Vec::len)]); points.len()];
        for (i, v, g) in even.into_iter().chain(odd) {
            out[i] = (v, g);
        }
        out
    }
}
