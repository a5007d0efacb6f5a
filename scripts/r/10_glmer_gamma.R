# Gamma GLMMs -> reference/glmer_gamma.json: sleepstudy's Reaction ~ Days + (1 | Subject)
# with the log, inverse and identity links. Run from the scratch directory of run_all.sh:
#   Rscript scripts/10_glmer_gamma.R
source("scripts/common.R")
ss <- read.csv("data/sleepstudy.csv")
CTRL_G <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                       tolPwrss = 1e-10, calc.derivs = FALSE)
fits <- list()
for (link in c("log", "inverse", "identity")) {
  m <- glmer(Reaction ~ Days + (1 | Subject), data = ss, family = Gamma(link = link),
             control = CTRL_G)
  fits[[length(fits) + 1]] <- list(
    id = paste0("sleepstudy_gamma_", link), data = "sleepstudy.csv",
    formula = "Reaction ~ Days + (1 | Subject)", family = "Gamma", link = link,
    nobs = nobs(m), loglik = as.numeric(logLik(m)), df = attr(logLik(m), "df"),
    deviance = deviance(m), AIC = AIC(m), BIC = BIC(m), sigma = sigma(m),
    theta = unname(getME(m, "theta")),
    random_sd = attr(VarCorr(m)$Subject, "stddev")[[1]],
    fixed = lapply(seq_along(fixef(m)), function(i) list(
      name = names(fixef(m))[i], estimate = unname(fixef(m)[i]),
      std_error = unname(sqrt(diag(as.matrix(vcov(m))))[i]))),
    devfun_at_optimum = update(m, devFunOnly = TRUE)(c(getME(m, "theta"), fixef(m))))
}
out <- list(source = paste0(versions_string(), ". Control: glmerControl(optimizer=\"bobyqa\", optCtrl=list(rhoend=1e-12, maxfun=1e6), tolPwrss=1e-10, calc.derivs=FALSE)"),
            versions = versions_list(), fits = fits)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "reference/glmer_gamma.json")
