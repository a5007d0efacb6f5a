# glmer on cbpp as bernoulli rows (data/cbpp_bernoulli.csv, from 01_export_data.R) ->
# reference/glmer_bernoulli.json: the engine fits such data on its distinct covariate
# patterns, and must report what glmer reports for the rows as given (logLik, deviance(),
# nobs, BIC). Run from the scratch directory of run_all.sh:  Rscript scripts/08_glmer_bernoulli.R
source("scripts/common.R")

d <- read_data("cbpp_bernoulli.csv")   # herd, period integer codes == labels; y 0/1
f <- y ~ factor(period) + (1 | herd)
fits <- list()
for (nagq in c(1, 25, 0)) {
  cat("fitting nAGQ =", nagq, "\n")
  m <- glmer(f, data = d, family = binomial, nAGQ = nagq, control = GLMM_CTRL_TIGHT)
  fits[[length(fits) + 1]] <- list(
    id = paste0("cbpp_bernoulli_nagq", nagq), data = "cbpp_bernoulli.csv",
    formula = "y ~ factor(period) + (1 | herd)", family = "binomial", link = "logit",
    nagq = nagq, nobs = nobs(m),
    loglik = as.numeric(logLik(m)), deviance = deviance(m), BIC = BIC(m),
    df_resid = df.residual(m),
    theta = unname(getME(m, "theta")),
    fixed = lapply(seq_along(fixef(m)), function(i) list(
      name = names(fixef(m))[i], estimate = unname(fixef(m)[i]),
      std_error = unname(sqrt(diag(as.matrix(vcov(m))))[i]))))
}
out <- list(source = paste0(versions_string(), ". Control: ", GLMM_CTRL_TIGHT_STR),
            versions = versions_list(), fits = fits)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "reference/glmer_bernoulli.json")
