# Shared helpers for the reference scripts. Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output).
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

LMM_CTRL <- lmerControl(optimizer = "bobyqa",
                        optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                        calc.derivs = FALSE)
GLMM_CTRL <- glmerControl(optimizer = "bobyqa",
                          optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                          calc.derivs = FALSE)
GLMM_CTRL_TIGHT <- glmerControl(optimizer = "bobyqa",
                                optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                                tolPwrss = 1e-12, calc.derivs = FALSE)

LMM_CTRL_STR <- 'lmerControl(optimizer="bobyqa", optCtrl=list(rhoend=1e-12, maxfun=1e6), calc.derivs=FALSE)'
GLMM_CTRL_STR <- 'glmerControl(optimizer="bobyqa", optCtrl=list(rhoend=1e-12, maxfun=1e6), calc.derivs=FALSE)'
GLMM_CTRL_TIGHT_STR <- 'glmerControl(optimizer="bobyqa", optCtrl=list(rhoend=1e-12, maxfun=1e6), tolPwrss=1e-12, calc.derivs=FALSE)'

versions_string <- function() {
  pk <- c("lme4", "lmerTest", "pbkrtest", "glmmTMB", "Matrix", "nlme")
  v <- vapply(pk, function(p) as.character(packageVersion(p)), "")
  si <- sessionInfo()
  paste0(R.version.string, "; ",
         paste(pk, v, sep = " ", collapse = ", "),
         "; BLAS ", basename(si$BLAS), "; LAPACK ", basename(si$LAPACK),
         "; LC_COLLATE=", Sys.getlocale("LC_COLLATE"))
}

versions_list <- function() {
  pk <- c("lme4", "lmerTest", "pbkrtest", "glmmTMB", "Matrix", "nlme", "jsonlite")
  c(list(R = R.version.string),
    setNames(lapply(pk, function(p) as.character(packageVersion(p))), pk))
}

# All fits use the data as read back from the exported CSVs, exactly as a user
# would: read.csv(..., stringsAsFactors = TRUE) so character columns become
# factors with levels in sort order; integer columns stay integer.
read_data <- function(name) {
  read.csv(file.path("data", name), stringsAsFactors = TRUE)
}

# Evaluate expr, collecting warnings/messages/errors instead of stopping.
capture <- function(expr) {
  warns <- character(0)
  msgs <- character(0)
  val <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(list(message = conditionMessage(e)),
                                                 class = "captured_error")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      msgs <<- c(msgs, sub("\n$", "", conditionMessage(m)))
      invokeRestart("muffleMessage")
    })
  list(value = val, warnings = warns, messages = msgs,
       error = if (inherits(val, "captured_error")) val$message else NULL)
}

is_err <- function(x) inherits(x, "captured_error")

na2null <- function(x) if (length(x) == 0 || (length(x) == 1 && is.na(x))) NULL else x

named_list <- function(v) {
  l <- as.list(unname(v))
  names(l) <- names(v)
  l
}

random_rows <- function(m) {
  vc <- as.data.frame(VarCorr(m))
  lapply(seq_len(nrow(vc)), function(i) list(
    group = vc$grp[i],
    var1 = if (is.na(vc$var1[i])) NA else vc$var1[i],
    var2 = if (is.na(vc$var2[i])) NA else vc$var2[i],
    vcov = vc$vcov[i],
    sdcor = vc$sdcor[i]))
}

opt_info <- function(m) {
  oi <- m@optinfo
  list(optimizer = oi$optimizer,
       feval = na2null(oi$feval),
       conv_opt = na2null(oi$conv$opt),
       lme4_messages = as.list(oi$conv$lme4$messages),
       optinfo_warnings = as.list(unlist(oi$warnings)))
}

lmm_entry <- function(id, data_file, formula_str, criterion, fitres, extra = list()) {
  e <- list(id = id, data = data_file, formula = formula_str, criterion = criterion)
  e <- c(e, extra)
  m <- fitres$value
  if (is_err(m)) {
    e$error <- fitres$error
    e$warnings <- as.list(fitres$warnings)
    return(e)
  }
  cf <- coef(summary(m))
  reml <- isREML(m)
  e$nobs <- nobs(m)
  e$objective <- if (reml) unname(m@devcomp$cmp["REML"]) else unname(-2 * as.numeric(logLik(m)))
  e$objective_kind <- if (reml) "REML criterion (m@devcomp$cmp['REML'])" else "deviance = -2*logLik(m)"
  e$loglik <- as.numeric(logLik(m))
  e$sigma <- sigma(m)
  e$theta <- named_list(getME(m, "theta"))
  e$fixed <- lapply(seq_len(nrow(cf)), function(i) list(
    name = rownames(cf)[i], estimate = cf[i, "Estimate"], std_error = cf[i, "Std. Error"]))
  e$random <- random_rows(m)
  e$ngroups <- named_list(ngrps(m))
  e$singular <- isSingular(m)
  e$optinfo <- opt_info(m)
  w <- c(fitres$warnings, m@optinfo$conv$lme4$messages)
  e$warnings <- as.list(unique(w))
  e$messages <- as.list(fitres$messages)
  e
}

write_json_file <- function(x, path) {
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, null = "null", na = "null",
                    pretty = TRUE), path)
  cat("wrote", path, "\n")
}
