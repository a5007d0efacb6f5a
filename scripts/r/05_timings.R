# Wall-clock timings on this machine -> reference/timings.json
# Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output):  Rscript scripts/05_timings.R
# (calls scripts/05b_instEval_satterthwaite.R under `timeout 600`)
source("scripts/common.R")
dir.create("tmp", showWarnings = FALSE)

loadavg <- function() tryCatch(readLines("/proc/loadavg"), error = function(e) NA)
time3 <- function(expr_fun, n = 3) {
  el <- numeric(n)
  val <- NULL
  for (i in seq_len(n)) {
    invisible(gc())
    t <- system.time(val <- expr_fun())
    el[i] <- unname(t["elapsed"])
    cat("  run", i, el[i], "s\n")
  }
  list(runs_s = el, median_s = median(el), value = val)
}

timings <- list()
la_start <- loadavg()

# 1. lmer InstEval ML, default control
cat("InstEval lmer\n")
ie <- read_data("InstEval.csv")
f_ie <- y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)
w_ie <- character(0)
r <- time3(function() withCallingHandlers(lmer(f_ie, data = ie, REML = FALSE),
                                          warning = function(w) { w_ie <<- c(w_ie, conditionMessage(w)); invokeRestart("muffleWarning") }))
m_ie <- r$value
timings[[length(timings) + 1]] <- list(
  id = "lmer_instEval_ml_default",
  what = "lmer(y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept), data = InstEval.csv, REML = FALSE), default lmerControl()",
  note = "service is the integer 0/1 column (numeric covariate; equivalent to a treatment-coded 2-level factor)",
  runs_s = r$runs_s, median_s = r$median_s,
  result = list(nobs = nobs(m_ie), loglik = as.numeric(logLik(m_ie)), sigma = sigma(m_ie),
                theta = named_list(getME(m_ie, "theta")), beta = named_list(fixef(m_ie)),
                ngroups = named_list(ngrps(m_ie)), feval = m_ie@optinfo$feval,
                optimizer = m_ie@optinfo$optimizer,
                warnings = as.list(unique(c(w_ie, m_ie@optinfo$conv$lme4$messages)))))

# 2. lmerTest Satterthwaite on that fit: separate process, capped at 10 minutes
cat("InstEval Satterthwaite (separate process, timeout 600 s)\n")
unlink("tmp/instEval_satt.json")
t_outer <- system.time(rc <- system2("timeout", c("600", "Rscript", "scripts/05b_instEval_satterthwaite.R"),
                                      stdout = "logs/05b.log", stderr = "logs/05b.log"))
if (file.exists("tmp/instEval_satt.json")) {
  sat <- fromJSON("tmp/instEval_satt.json", simplifyVector = FALSE)
  sat$id <- "lmertest_instEval_satterthwaite"
  sat$process_elapsed_s <- unname(t_outer["elapsed"])
  timings[[length(timings) + 1]] <- sat
} else {
  timings[[length(timings) + 1]] <- list(
    id = "lmertest_instEval_satterthwaite",
    skipped = TRUE, exit_code = rc,
    note = paste("did not finish within the 600 s cap (timeout exit code 124) or failed; elapsed before kill:",
                 unname(t_outer["elapsed"]), "s"),
    log = readLines("logs/05b.log"))
}

# 3. bootMer sleepstudy random slopes, nsim = 200
cat("bootMer\n")
ss <- read_data("sleepstudy.csv")
m_ss <- lmer(Reaction ~ Days + (1 + Days | Subject), data = ss)   # REML, default control
bfun <- function(x) c(fixef(x), getME(x, "theta"), sigma = sigma(x))
r <- time3(function() { set.seed(1); suppressMessages(suppressWarnings(bootMer(m_ss, FUN = bfun, nsim = 200))) })
timings[[length(timings) + 1]] <- list(
  id = "bootmer_sleepstudy_200",
  what = "bootMer(lmer(Reaction ~ Days + (1 + Days | Subject), sleepstudy), FUN = function(x) c(fixef(x), getME(x,'theta'), sigma=sigma(x)), nsim = 200), parametric, default control, REML, parallel = 'no', set.seed(1)",
  runs_s = r$runs_s, median_s = r$median_s,
  per_10000_extrapolated_s = r$median_s * 10000 / 200,
  per_10000_note = "EXTRAPOLATED linearly from nsim = 200 (median x 50); not measured",
  boot_sd_of_estimates = named_list(apply(r$value$t, 2, sd)),
  n_failed = sum(!complete.cases(r$value$t)))

# 4. confint profile sleepstudy
cat("confint profile\n")
r <- time3(function() suppressMessages(suppressWarnings(confint(m_ss, method = "profile", oldNames = FALSE))))
ci <- r$value
timings[[length(timings) + 1]] <- list(
  id = "confint_profile_sleepstudy",
  what = "confint(lmer(Reaction ~ Days + (1 + Days | Subject), sleepstudy), method = 'profile', oldNames = FALSE), default control, REML fit (profile refits ML)",
  runs_s = r$runs_s, median_s = r$median_s,
  result = lapply(seq_len(nrow(ci)), function(i) list(name = rownames(ci)[i], lower = ci[i, 1], upper = ci[i, 2])))

# 5. glmer VerbAgg Laplace, default control
cat("glmer VerbAgg\n")
va <- read_data("VerbAgg.csv")
r <- time3(function() glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item),
                            data = va, family = binomial))
timings[[length(timings) + 1]] <- list(
  id = "glmer_verbagg_laplace_default",
  what = "glmer(r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item), VerbAgg.csv, family = binomial), default glmerControl() (nAGQ = 1)",
  runs_s = r$runs_s, median_s = r$median_s,
  result = list(loglik = as.numeric(logLik(r$value)), theta = named_list(getME(r$value, "theta"))))

out <- list(
  source = paste0(versions_string(),
                  ". Elapsed seconds from system.time(), median of 3 runs unless stated, on this machine: ",
                  "2 cores / 24 GiB, single-threaded reference BLAS, with another build (cargo) competing for the CPUs, so numbers are noisy/upper-bound-ish."),
  versions = versions_list(),
  machine = list(nproc = parallel::detectCores(), cpu = tryCatch(unique(grep("model name", readLines("/proc/cpuinfo"), value = TRUE)), error = function(e) NA),
                 loadavg_start = la_start, loadavg_end = loadavg()),
  fits = timings
)
write_json_file(out, "reference/timings.json")
