# Negative binomial GLMMs -> reference/glmer_nb.json: glmer.nb (θ estimated by lme4's
# optTheta, tol tightened to 1e-8) and glmer with negative.binomial(theta = 2) (θ fixed), on
# grouseticks. Run from the scratch directory of run_all.sh:  Rscript scripts/09_glmer_nb.R
source("scripts/common.R")
suppressPackageStartupMessages(library(MASS))
gt <- read_data("grouseticks.csv")
# PIRLS to tolPwrss = 1e-10: lme4's default (1e-7) leaves these log-likelihoods 8e-4 low, and
# 1e-12 does not converge for glmer.nb.
CTRL_NB <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                        tolPwrss = 1e-10, calc.derivs = FALSE)
CTRL_NB_STR <- 'glmerControl(optimizer="bobyqa", optCtrl=list(rhoend=1e-12, maxfun=1e6), tolPwrss=1e-10, calc.derivs=FALSE)'

f <- TICKS ~ factor(YEAR) + scale(HEIGHT) + (1 | LOCATION)
summ <- function(m, id, note) {
  list(id = id, data = "grouseticks.csv",
       formula = "TICKS ~ factor(YEAR) + scale(HEIGHT) + (1 | LOCATION)",
       note = note, nobs = nobs(m),
       loglik = as.numeric(logLik(m)), df = attr(logLik(m), "df"),
       deviance = deviance(m), AIC = AIC(m), BIC = BIC(m),
       nb_theta = getME(m, "glmer.nb.theta"),
       theta = unname(getME(m, "theta")),
       fixed = lapply(seq_along(fixef(m)), function(i) list(
         name = names(fixef(m))[i], estimate = unname(fixef(m)[i]),
         std_error = unname(sqrt(diag(as.matrix(vcov(m))))[i]))))
}
fits <- list()
# glmer.nb (default PIRLS tolerance) for θ's neighbourhood, then θ maximising the tight-PIRLS
# log-likelihood of glmer(family = negative.binomial(θ)) by optimize() on log θ at tol 1e-9
# (glmer.nb's own optTheta cannot run with tolPwrss = 1e-10: pwrssUpdate fails).
m0 <- glmer.nb(f, data = gt, control = GLMM_CTRL)
th0 <- getME(m0, "glmer.nb.theta")
nb_fit <- function(th) glmer(f, data = gt, family = negative.binomial(theta = th), control = CTRL_NB)
opt <- optimize(function(t) -2 * as.numeric(logLik(nb_fit(exp(t)))),
                interval = log(th0) + c(-0.2, 0.2), tol = 1e-9)
m1 <- nb_fit(exp(opt$minimum))
fits[[1]] <- summ(m1, "grouseticks_nb_estimated",
                  "theta: optimize(-2 logLik of glmer(negative.binomial(theta), CTRL_NB)) over log(theta) at tol 1e-9, from glmer.nb's estimate")
m2 <- glmer(f, data = gt, family = negative.binomial(theta = 2), control = CTRL_NB)
s2 <- summ(m2, "grouseticks_nb_theta2", "glmer(family = negative.binomial(theta = 2), control = CTRL_NB)")
s2$nb_theta <- 2
fits[[2]] <- s2
out <- list(source = paste0(versions_string(), ". Control: ", CTRL_NB_STR),
            versions = versions_list(), fits = fits)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "reference/glmer_nb.json")
