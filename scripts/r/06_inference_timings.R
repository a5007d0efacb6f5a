# lme4 / lmerTest timings of issue 11's post-fit steps, on this machine, printed as JSON
# (median of 3 elapsed seconds each); run from the repository root:
#   Rscript scripts/r/06_inference_timings.R
# Used by scripts/bench_inference.sh --with-r to compare in the same run.
suppressMessages({ library(lme4); library(lmerTest); library(jsonlite) })
sleep <- read.csv("data/sleepstudy.csv")
sleep$Subject <- factor(sleep$Subject)
med3 <- function(f) { el <- replicate(3, system.time(f())["elapsed"]); list(runs_s = unname(el), median_s = median(el)) }
m <- lme4::lmer(Reaction ~ Days + (1 + Days | Subject), sleep)
out <- list(
  fit_sleepstudy_reml = med3(function() lme4::lmer(Reaction ~ Days + (1 + Days | Subject), sleep)),
  confint_profile_sleepstudy = med3(function() confint(m, method = "profile", oldNames = FALSE)),
  bootmer_sleepstudy_200 = med3(function() {
    set.seed(1)
    bootMer(m, function(x) c(fixef(x), getME(x, "theta"), sigma = sigma(x)), nsim = 200)
  }),
  satterthwaite_sleepstudy = med3(function() summary(lmerTest::as_lmerModLmerTest(m), ddf = "Satterthwaite")),
  kenward_roger_sleepstudy = med3(function() summary(lmerTest::as_lmerModLmerTest(m), ddf = "Kenward-Roger"))
)
cat(toJSON(out, auto_unbox = TRUE, digits = 6, pretty = TRUE), "\n")
