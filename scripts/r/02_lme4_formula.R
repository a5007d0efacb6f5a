# Formula-transform reference fits (LMMs) -> reference/lme4_formula.json
# Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output):  Rscript scripts/02_lme4_formula.R
source("scripts/common.R")

cw <- read_data("ChickWeight.csv")      # Diet integer 1..4, Chick integer-looking -> integer
ss <- read_data("sleepstudy.csv")
ssw <- read_data("sleepstudy_w.csv")
ot <- read_data("Orthodont.csv")        # Sex factor levels Female, Male (sort order)
oa <- read_data("Oats.csv")

specs <- list(
  list(id = "chick_factor_diet_ml", data = "ChickWeight.csv", d = cw,
       f = "weight ~ Time * factor(Diet) + (1 + Time | Chick)", REML = FALSE),
  list(id = "chick_numeric_diet_ml", data = "ChickWeight.csv", d = cw,
       f = "weight ~ Time * Diet + (1 + Time | Chick)", REML = FALSE,
       note = "Diet read as integer 1..4 and used as a numeric covariate: the silently-wrong model"),
  list(id = "sleep_poly2_slope_ml", data = "sleepstudy.csv", d = ss,
       f = "Reaction ~ poly(Days, 2) + (1 + Days | Subject)", REML = FALSE),
  list(id = "sleep_logresp_reml", data = "sleepstudy.csv", d = ss,
       f = "log(Reaction) ~ Days + (1 + Days | Subject)", REML = TRUE),
  list(id = "sleep_Isq_ml", data = "sleepstudy.csv", d = ss,
       f = "Reaction ~ Days + I(Days^2) + (1 | Subject)", REML = FALSE),
  list(id = "sleep_scale_in_re_ml", data = "sleepstudy.csv", d = ss,
       f = "Reaction ~ Days + (1 + scale(Days) | Subject)", REML = FALSE),
  list(id = "sleep_poly2raw_ml", data = "sleepstudy.csv", d = ss,
       f = "Reaction ~ poly(Days, 2, raw = TRUE) + (1|Subject)", REML = FALSE),
  list(id = "sleep_log1p_sqrt_ml", data = "sleepstudy.csv", d = ss,
       f = "Reaction ~ log1p(Days) + sqrt(Days) + (1|Subject)", REML = FALSE),
  list(id = "sleep_offset_ml", data = "sleepstudy.csv", d = ss,
       f = "Reaction ~ Days + offset(2 * Days) + (1 | Subject)", REML = FALSE),
  list(id = "sleep_weighted_ml", data = "sleepstudy_w.csv", d = ssw,
       f = "Reaction ~ Days + (1 + Days | Subject)", REML = FALSE, weights = TRUE,
       note = "weights = w, w = 1 + (Days %% 3)"),
  list(id = "sleep_weighted_reml", data = "sleepstudy_w.csv", d = ssw,
       f = "Reaction ~ Days + (1 + Days | Subject)", REML = TRUE, weights = TRUE,
       note = "weights = w, w = 1 + (Days %% 3)"),
  list(id = "orthodont_contrsum_ml", data = "Orthodont.csv", d = ot,
       f = "distance ~ age + Sex + (1 | Subject)", REML = FALSE,
       contrasts = list(Sex = "contr.sum"),
       note = "contrasts = list(Sex = \"contr.sum\"); Sex levels Female, Male (CSV sort order)"),
  list(id = "oats_helmert_reml", data = "Oats.csv", d = oa,
       f = "yield ~ nitro + Variety + (1|Block/Variety)", REML = TRUE,
       contrasts = list(Variety = "contr.helmert"),
       note = "contrasts = list(Variety = \"contr.helmert\"); Variety levels Golden Rain, Marvellous, Victory")
)

fits <- list()
models <- list()
for (s in specs) {
  cat("fitting", s$id, "\n")
  d <- s$d
  f <- as.formula(s$f)
  fr <- capture({
    if (isTRUE(s$weights)) {
      lmer(f, data = d, REML = s$REML, control = LMM_CTRL, weights = w,
           contrasts = s$contrasts)
    } else {
      lmer(f, data = d, REML = s$REML, control = LMM_CTRL, contrasts = s$contrasts)
    }
  })
  extra <- list()
  if (!is.null(s$note)) extra$note <- s$note
  if (isTRUE(s$weights)) extra$weights <- "w"
  if (!is.null(s$contrasts)) extra$contrasts <- s$contrasts
  e <- lmm_entry(s$id, s$data, s$f, if (s$REML) "REML" else "ML", fr, extra)
  if (!is_err(fr$value)) {
    m <- fr$value
    e$coef_names_printed <- names(fixef(m))
    e$fixed_vcov <- unname(as.matrix(vcov(m)))
    if (!is.null(s$contrasts)) {
      cn <- names(s$contrasts)
      e$contrast_matrix <- lapply(cn, function(v) {
        cm <- attr(getME(m, "X"), "contrasts")[[v]]
        cmm <- if (is.character(cm)) get(cm)(levels(d[[v]])) else cm
        list(variable = v, levels = levels(d[[v]]), matrix = unname(cmm))
      })
    }
    models[[s$id]] <- m
  }
  fits[[length(fits) + 1]] <- e
}

# poly(Days, 2) basis as built from the 180 sleepstudy rows, evaluated at Days 0..9
P <- poly(ss$Days, 2)
basis <- predict(P, 0:9)
P_single <- poly(0:9, 2)
poly_info <- list(
  description = paste("poly(Days, 2) basis built on sleepstudy$Days (180 rows, Days 0..9 repeated 18x),",
                      "evaluated at Days 0..9 via predict(poly(ss$Days,2), 0:9).",
                      "Columns are orthonormal over the 180 rows; equals poly(0:9,2)/sqrt(18).",
                      "rows = Days 0..9, cols = degree 1,2"),
  days = 0:9,
  basis = unname(basis),
  coefs_alpha = attr(P, "coefs")$alpha,
  coefs_norm2 = attr(P, "coefs")$norm2,
  basis_poly_0_9 = unname(P_single[, 1:2]),
  basis_poly_0_9_description = "poly(0:9, 2) (orthonormal over the 10 distinct values)",
  coef_names_printed = if (!is.null(models$sleep_poly2_slope_ml)) names(fixef(models$sleep_poly2_slope_ml)) else NULL,
  coef_names_printed_raw = if (!is.null(models$sleep_poly2raw_ml)) names(fixef(models$sleep_poly2raw_ml)) else NULL,
  model_matrix_first10 = if (!is.null(models$sleep_poly2_slope_ml)) unname(getME(models$sleep_poly2_slope_ml, "X")[1:10, ]) else NULL
)

out <- list(
  source = paste0(versions_string(), ". LMM control: ", LMM_CTRL_STR,
                  ". Data read back from the CSVs in data/ with read.csv(stringsAsFactors=TRUE)."),
  versions = versions_list(),
  control = LMM_CTRL_STR,
  fits = fits,
  poly_days_2 = poly_info
)
write_json_file(out, "reference/lme4_formula.json")
