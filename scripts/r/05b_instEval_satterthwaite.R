# Called by 05_timings.R under `timeout 600`. Times lmerTest's Satterthwaite
# machinery on the InstEval ML fit (3 runs). The fit is redone here (untimed)
# because as_lmerModLmerTest() needs update(m, devFunOnly=TRUE), i.e. the data
# in the calling environment, which a saved RDS does not carry.
source("scripts/common.R")
suppressPackageStartupMessages(library(lmerTest))
ie <- read_data("InstEval.csv")
m <- lme4::lmer(y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept), data = ie, REML = FALSE)
invisible(gc())
t1s <- numeric(3); t2s <- numeric(3)
for (i in 1:3) {   # 3 runs (each ~10-15 s here); the whole script is capped at 600 s by timeout
  invisible(gc())
  t1s[i] <- system.time(mt <- as_lmerModLmerTest(m))["elapsed"]   # numerical Hessian/Jacobian of the deviance (the costly part)
  t2s[i] <- system.time(sm <- summary(mt, ddf = "Satterthwaite"))["elapsed"]
}
cf <- sm$coefficients
res <- list(
  what = paste("lmerTest on the InstEval ML fit (default control): as_lmerModLmerTest(m) [computes vcov(varpar) and",
               "the Jacobian numerically] then summary(mt, ddf = 'Satterthwaite'); median of 3 runs of the pair; excludes the lme4 fit itself"),
  as_lmerModLmerTest_runs_s = t1s,
  summary_runs_s = t2s,
  total_runs_s = t1s + t2s,
  median_s = median(t1s + t2s),
  runs = 3,
  coefficients = lapply(seq_len(nrow(cf)), function(i) list(
    name = rownames(cf)[i], estimate = cf[i, 1], std_error = cf[i, 2], df = cf[i, 3],
    t = cf[i, 4], p = cf[i, 5])))
write_json_file(res, "tmp/instEval_satt.json")
