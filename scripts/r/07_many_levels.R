# A fixed-effect factor with many levels (issue 13): data/r/many_levels.csv and the lme4 fit
# data/reference/many_levels.json. 600 levels of f, 3 rows each, a crossed random intercept g
# (40 levels) and a numeric covariate x; level L0 is the reference.
# Run from the repository root:  Rscript scripts/r/07_many_levels.R
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
set.seed(13)
L <- 600
f <- rep(sprintf("L%03d", 0:(L - 1)), each = 3)
g <- sprintf("G%02d", (seq_along(f) * 7) %% 40)
x <- round(rnorm(length(f)), 3)
y <- round(rnorm(L, sd = 2)[as.integer(factor(f))] + 0.5 * x +
           rnorm(40, sd = 1)[as.integer(factor(g))] + rnorm(length(f)), 4)
d <- data.frame(y = y, x = x, f = f, g = g)
write.csv(d, "data/r/many_levels.csv", row.names = FALSE)
d <- read.csv("data/r/many_levels.csv")
out <- list()
for (reml in c(FALSE, TRUE)) {
  m <- lmer(y ~ x + f + (1 | g), data = d, REML = reml,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 0.2, rhoend = 2e-10)))
  cf <- summary(m)$coefficients
  out[[if (reml) "REML" else "ML"]] <- list(
    objective = if (reml) unname(REMLcrit(m)) else unname(deviance(m)),
    sigma = sigma(m), theta = unname(getME(m, "theta")),
    fixed_names = rownames(cf), beta = unname(cf[, 1]), se = unname(cf[, 2]))
}
write_json(out, "data/reference/many_levels.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote data/reference/many_levels.json\n")
