# Inference reference values (lmerTest / pbkrtest / confint / ranef / predict / anova)
# -> reference/lmertest.json.  Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output):  Rscript scripts/03_lmertest.R
source("scripts/common.R")
suppressPackageStartupMessages({ library(lmerTest); library(pbkrtest) })

ss <- read_data("sleepstudy.csv")
ot <- read_data("Orthodont.csv")
pe <- read_data("Penicillin.csv")
oa <- read_data("Oats.csv")

mat_rows <- function(M, cols) {
  lapply(seq_len(nrow(M)), function(i) {
    r <- list(name = rownames(M)[i])
    for (j in seq_along(cols)) r[[names(cols)[j]]] <- if (is.na(M[i, cols[[j]]])) NA else unname(M[i, cols[[j]]])
    r
  })
}

coef_table <- function(sm, kr = FALSE) {
  cf <- sm$coefficients
  mat_rows(cf, c(estimate = "Estimate", std_error = "Std. Error", df = "df",
                 t = "t value", p = "Pr(>|t|)"))
}

ci_rows <- function(ci) {
  lapply(seq_len(nrow(ci)), function(i) list(
    name = rownames(ci)[i],
    lower = if (is.na(ci[i, 1])) NA else unname(ci[i, 1]),
    upper = if (is.na(ci[i, 2])) NA else unname(ci[i, 2])))
}

ranef_rows <- function(m) {
  rr <- as.data.frame(ranef(m, condVar = TRUE))
  lapply(seq_len(nrow(rr)), function(i) list(
    group = as.character(rr$grpvar[i]), level = as.character(rr$grp[i]),
    term = as.character(rr$term[i]), mode = rr$condval[i], cond_sd = rr$condsd[i]))
}

specs <- list(
  list(id = "sleep_slopes_reml", data = "sleepstudy.csv", d = ss, REML = TRUE,
       f = "Reaction ~ Days + (1 + Days | Subject)", newdata = "newdata_sleepstudy.csv"),
  list(id = "orthodont_agexsex_reml", data = "Orthodont.csv", d = ot, REML = TRUE,
       f = "distance ~ age * Sex + (1 | Subject)", newdata = "newdata_Orthodont.csv"),
  list(id = "penicillin_crossed_reml", data = "Penicillin.csv", d = pe, REML = TRUE,
       f = "diameter ~ 1 + (1 | plate) + (1 | sample)", newdata = "newdata_Penicillin.csv"),
  list(id = "oats_nested_reml", data = "Oats.csv", d = oa, REML = TRUE,
       f = "yield ~ nitro + Variety + (1 | Block/Variety)", newdata = "newdata_Oats.csv"),
  list(id = "sleep_slopes_ml", data = "sleepstudy.csv", d = ss, REML = FALSE,
       f = "Reaction ~ Days + (1 + Days | Subject)", newdata = NULL,
       note = "ML fit: Satterthwaite only (Kenward-Roger needs REML)")
)

fits <- list()
for (s in specs) {
  cat("fitting", s$id, "\n")
  fr <- capture(lmerTest::lmer(as.formula(s$f), data = s$d, REML = s$REML, control = LMM_CTRL))
  e <- lmm_entry(s$id, s$data, s$f, if (s$REML) "REML" else "ML", fr,
                 if (!is.null(s$note)) list(note = s$note) else list())
  m <- fr$value
  if (is_err(m)) { fits[[length(fits) + 1]] <- e; next }

  r <- capture(summary(m, ddf = "Satterthwaite"))
  e$satterthwaite <- if (is_err(r$value)) list(error = r$error) else
    list(coefficients = coef_table(r$value), warnings = as.list(r$warnings))

  if (s$REML) {
    r <- capture(summary(m, ddf = "Kenward-Roger"))
    e$kenward_roger <- if (is_err(r$value)) list(error = r$error) else
      list(coefficients = coef_table(r$value), warnings = as.list(r$warnings))
    r <- capture(pbkrtest::vcovAdj(m))
    if (is_err(r$value)) {
      e$kenward_roger$vcovAdj_error <- r$error
    } else {
      V <- as.matrix(r$value)
      e$kenward_roger$vcovAdj <- unname(V)
      e$kenward_roger$vcovAdj_names <- names(fixef(m))
      e$kenward_roger$vcovAdj_warnings <- as.list(r$warnings)
    }
    e$vcov_unadjusted <- unname(as.matrix(vcov(m)))
  }

  r <- capture(confint(m, method = "Wald", oldNames = FALSE))
  e$confint_wald <- if (is_err(r$value)) list(error = r$error) else
    list(level = 0.95, rows = ci_rows(r$value), warnings = as.list(r$warnings),
         call = 'confint(m, method="Wald", oldNames=FALSE)')
  r <- capture(confint(m, method = "profile", oldNames = FALSE))
  e$confint_profile <- if (is_err(r$value)) list(error = r$error, warnings = as.list(r$warnings)) else
    list(level = 0.95, rows = ci_rows(r$value), warnings = as.list(r$warnings),
         call = 'confint(m, method="profile", oldNames=FALSE)',
         note = "lme4 1.1-31 profile() always profiles the ML deviance: devfun2() calls refitML(fm) first, so for REML fits these are ML-profile intervals (the refit uses lme4's refitML, not the tight control)")

  e$ranef_condvar <- ranef_rows(m)
  e$fitted_first10 <- unname(fitted(m)[1:10])
  e$residuals_first10 <- unname(residuals(m)[1:10])

  if (!is.null(s$newdata)) {
    nd <- read.csv(file.path("data", s$newdata), stringsAsFactors = TRUE)
    p0 <- capture(predict(m, newdata = nd, re.form = NA))
    p1 <- capture(predict(m, newdata = nd, re.form = NULL, allow.new.levels = TRUE))
    e$predict <- list(
      newdata_file = s$newdata,
      newdata = nd,
      fixed_only = if (is_err(p0$value)) list(error = p0$error) else unname(p0$value),
      fixed_only_call = "predict(m, newdata = nd, re.form = NA)",
      with_re = if (is_err(p1$value)) list(error = p1$error) else unname(p1$value),
      with_re_call = "predict(m, newdata = nd, re.form = NULL, allow.new.levels = TRUE)",
      warnings = as.list(c(p0$warnings, p1$warnings)))
  }
  fits[[length(fits) + 1]] <- e
}

# anova(m0, m1): REML fits, anova() refits with ML
cat("anova\n")
m0 <- lmerTest::lmer(Reaction ~ Days + (1 | Subject), data = ss, REML = TRUE, control = LMM_CTRL)
m1 <- lmerTest::lmer(Reaction ~ Days + (1 + Days | Subject), data = ss, REML = TRUE, control = LMM_CTRL)
ar <- capture(anova(m0, m1))
a <- as.data.frame(ar$value)
anova_rows <- lapply(seq_len(nrow(a)), function(i) {
  g <- function(col) if (is.na(a[i, col])) NA else a[i, col]
  list(model = rownames(a)[i], npar = g("npar"), AIC = g("AIC"), BIC = g("BIC"),
       logLik = g("logLik"), deviance = g("deviance"), Chisq = g("Chisq"),
       Df = g("Df"), p = g("Pr(>Chisq)"))
})
anova_entry <- list(
  m0 = "Reaction ~ Days + (1|Subject)", m1 = "Reaction ~ Days + (1 + Days|Subject)",
  data = "sleepstudy.csv",
  note = "both fitted with REML=TRUE and the LMM control; anova(m0, m1) refits both with ML (refit uses the models' own control)",
  rows = anova_rows, warnings = as.list(ar$warnings), messages = as.list(ar$messages))

out <- list(
  source = paste0(versions_string(), ". LMM control: ", LMM_CTRL_STR,
                  ". Models fitted with lmerTest::lmer; data read back from the CSVs with read.csv(stringsAsFactors=TRUE)."),
  versions = versions_list(),
  control = LMM_CTRL_STR,
  fits = fits,
  anova = anova_entry
)
write_json_file(out, "reference/lmertest.json")
