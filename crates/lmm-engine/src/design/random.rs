//! One random-effects term of the model: its grouping factor and the rows of its model matrix,
//! in MixedModels.jl's compact form ([`RandomEffectsTerm`]).

use crate::formula::RandomTerm;

use super::frame::ModelFrame;
use super::{DesignError, RandomEffectsTerm};

impl ModelFrame<'_> {
    pub(super) fn random_term(&self, term: &RandomTerm) -> Result<RandomEffectsTerm, DesignError> {
        let group = term.group().name().to_owned();
        let factor = self.grouping(term.group(), &group)?;
        if factor.levels.len() < 2 {
            return Err(DesignError::TooFewLevels {
                group,
                levels: factor.levels.len(),
            });
        }
        let columns = self.model_columns(term.terms())?;
        let z = (0..self.nobs())
            .flat_map(|i| columns.iter().map(move |c| c.values[i]))
            .collect();
        Ok(RandomEffectsTerm {
            group,
            columns: columns.into_iter().map(|c| c.name).collect(),
            levels: factor.levels,
            refs: factor.codes,
            z,
        })
    }
}
