# GLMM reference fits -> reference/glmer.json
# Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output):  Rscript scripts/04_glmer.R
source("scripts/common.R")

cb <- read_data("cbpp.csv")          # herd, period integer-coded
gt <- read_data("grouseticks.csv")   # INDEX, BROOD, YEAR, LOCATION integer-looking -> integer
sim <- read_data("sim_bernoulli_slope.csv")  # simulated, see 01_export_data.R
va <- read_data("VerbAgg.csv")       # r2 factor N < Y; Gender F < M; btype curse < scold < shout; situ other < self

specs <- list(
  list(id = "cbpp_logit_laplace", data = "cbpp.csv", d = cb, fam = binomial(link = "logit"), nAGQ = 1,
       f = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)"),
  list(id = "cbpp_logit_agq25", data = "cbpp.csv", d = cb, fam = binomial(link = "logit"), nAGQ = 25,
       f = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)"),
  list(id = "cbpp_logit_nagq0", data = "cbpp.csv", d = cb, fam = binomial(link = "logit"), nAGQ = 0,
       f = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)"),
  list(id = "cbpp_probit_laplace", data = "cbpp.csv", d = cb, fam = binomial(link = "probit"), nAGQ = 1,
       f = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)"),
  list(id = "cbpp_cloglog_laplace", data = "cbpp.csv", d = cb, fam = binomial(link = "cloglog"), nAGQ = 1,
       f = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)"),
  list(id = "grouseticks_pois_laplace", data = "grouseticks.csv", d = gt, fam = poisson(link = "log"), nAGQ = 1,
       f = "TICKS ~ factor(YEAR) + HEIGHT + (1|BROOD) + (1|INDEX) + (1|LOCATION)",
       note = "YEAR exported as integer 95/96/97, used as factor(YEAR); HEIGHT raw (unscaled)"),
  list(id = "grouseticks_pois_scaled_laplace", data = "grouseticks.csv", d = gt, fam = poisson(link = "log"), nAGQ = 1,
       f = "TICKS ~ factor(YEAR) + scale(HEIGHT) + (1|BROOD) + (1|INDEX) + (1|LOCATION)",
       note = "extra: the lme4 example form with scale(HEIGHT), for comparison with the raw-HEIGHT fit"),
  list(id = "verbagg_laplace", data = "VerbAgg.csv", d = va, fam = binomial(link = "logit"), nAGQ = 1,
       f = "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"),
  list(id = "verbagg_nagq0", data = "VerbAgg.csv", d = va, fam = binomial(link = "logit"), nAGQ = 0,
       f = "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)"),
  list(id = "cbpp_pois_offset_laplace", data = "cbpp.csv", d = cb, fam = poisson(link = "log"), nAGQ = 1,
       f = "incidence ~ factor(period) + offset(log(size)) + (1|herd)"),
  list(id = "verbagg_bernoulli_slope_laplace", data = "VerbAgg.csv", d = va, fam = binomial(link = "logit"), nAGQ = 1,
       f = "r2 ~ Anger + btype + (1 + Anger | item)",
       note = "converges but is singular (Anger slope SD ~ 0); see sim_bernoulli_slope_laplace for a non-singular random-slope bernoulli"),
  list(id = "sim_bernoulli_slope_laplace", data = "sim_bernoulli_slope.csv", d = sim, fam = binomial(link = "logit"), nAGQ = 1,
       f = "y ~ x + (1 + x | g)",
       note = "simulated in 01_export_data.R: 40 groups x 60 obs, beta=(-0.3,0.7), sd=(0.8,0.6), cor=0.3, seed 20240611")
)

fixed_rows <- function(m) {
  cf <- coef(summary(m))
  lapply(seq_len(nrow(cf)), function(i) list(
    name = rownames(cf)[i], estimate = cf[i, 1], std_error = cf[i, 2],
    z = cf[i, 3], p = cf[i, 4]))
}

glmm_summary <- function(m) {
  list(loglik = as.numeric(logLik(m)),
       minus2loglik = -2 * as.numeric(logLik(m)),
       deviance = deviance(m),
       AIC = AIC(m), BIC = BIC(m), df_resid = df.residual(m),
       theta = named_list(getME(m, "theta")),
       beta = named_list(fixef(m)),
       fixed = fixed_rows(m),
       random = random_rows(m),
       singular = isSingular(m))
}

fits <- list()
for (s in specs) {
  cat("fitting", s$id, "\n")
  f <- as.formula(s$f)
  e <- list(id = s$id, data = s$data, formula = s$f, family = s$fam$family,
            link = s$fam$link, nagq = s$nAGQ)
  if (!is.null(s$note)) e$note <- s$note
  fr <- capture(glmer(f, data = s$d, family = s$fam, nAGQ = s$nAGQ, control = GLMM_CTRL))
  m <- fr$value
  if (is_err(m)) {
    e$error <- fr$error
    e$warnings <- as.list(fr$warnings)
  } else {
    e$nobs <- nobs(m)
    e <- c(e, glmm_summary(m))
    e$deviance_note <- "deviance = deviance(m) (lme4 GLMM deviance() = sum(residuals(m, type=\"deviance\")^2) = devcomp drsum, NOT -2*logLik; see minus2loglik)"
    e$ngroups <- named_list(ngrps(m))
    e$optinfo <- opt_info(m)
    e$warnings <- as.list(unique(c(fr$warnings, m@optinfo$conv$lme4$messages)))
    e$messages <- as.list(fr$messages)

    # Tight-PIRLS refit
    tr <- capture(update(m, control = GLMM_CTRL_TIGHT))
    mt <- tr$value
    if (is_err(mt)) {
      e$tight <- list(error = tr$error, warnings = as.list(tr$warnings))
    } else {
      e$loglik_tight <- as.numeric(logLik(mt))
      e$tight <- c(list(control = GLMM_CTRL_TIGHT_STR), glmm_summary(mt),
                   list(optinfo = opt_info(mt),
                        warnings = as.list(unique(c(tr$warnings, mt@optinfo$conv$lme4$messages)))))
    }
    # Re-score the main fit's own (theta, beta) with tolPwrss = 1e-12 (nAGQ >= 1 only)
    if (s$nAGQ >= 1) {
      rs <- capture({
        dfun <- update(m, devFunOnly = TRUE, control = GLMM_CTRL_TIGHT)
        dfun(c(getME(m, "theta"), fixef(m)))
      })
      if (is_err(rs$value)) {
        e$rescored_same_params <- list(error = rs$error)
      } else {
        e$rescored_same_params <- list(
          description = "update(m, devFunOnly=TRUE, control=<tight, tolPwrss=1e-12>) evaluated at c(getME(m,'theta'), fixef(m)); loglik = -dev/2",
          deviance_m2ll = rs$value, loglik = -rs$value / 2,
          warnings = as.list(rs$warnings))
      }
    }
  }

  # Default-control fit, timed (peer timing)
  gc()
  t0 <- NULL
  dr <- capture({
    t0 <- system.time(md <- glmer(f, data = s$d, family = s$fam, nAGQ = s$nAGQ))
    md
  })
  if (is_err(dr$value)) {
    e$default_fit <- list(error = dr$error, warnings = as.list(dr$warnings))
  } else {
    md <- dr$value
    e$time_default_s <- unname(t0["elapsed"])
    e$default_fit <- list(control = "glmer() default control",
                          loglik = as.numeric(logLik(md)),
                          theta = named_list(getME(md, "theta")),
                          beta = named_list(fixef(md)),
                          optinfo = opt_info(md),
                          singular = isSingular(md),
                          warnings = as.list(unique(c(dr$warnings, md@optinfo$conv$lme4$messages))),
                          messages = as.list(dr$messages))
  }
  fits[[length(fits) + 1]] <- e
}

out <- list(
  source = paste0(versions_string(), ". GLMM control: ", GLMM_CTRL_STR,
                  "; loglik_tight from update(m, control=", GLMM_CTRL_TIGHT_STR, ")",
                  "; time_default_s = system.time() elapsed of one glmer() fit with default control on this 2-core machine (shared with another build; noisy).",
                  " Data read back from the CSVs with read.csv(stringsAsFactors=TRUE)."),
  versions = versions_list(),
  control = GLMM_CTRL_STR,
  control_tight = GLMM_CTRL_TIGHT_STR,
  fits = fits
)
write_json_file(out, "reference/glmer.json")
