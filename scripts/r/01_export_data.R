# Export the data sets as plain CSV (write.csv, row.names = FALSE).
# Run from a scratch directory holding data/ (a copy of data/r plus data/sleepstudy.csv), scripts/ (this folder) and reference/ (output):  Rscript scripts/01_export_data.R
suppressPackageStartupMessages({ library(lme4); library(nlme) })
dir.create("data", showWarnings = FALSE)
lab_int <- function(f) as.integer(as.character(f))   # integer-looking labels -> integers
wcsv <- function(d, name) {
  d <- as.data.frame(d)
  attributes(d) <- attributes(d)[c("names", "row.names", "class")]
  class(d) <- "data.frame"
  write.csv(d, file.path("data", name), row.names = FALSE)
  cat(name, nrow(d), "rows:", paste(names(d), collapse = ","), "\n")
}

cw <- datasets::ChickWeight
wcsv(data.frame(weight = cw$weight, Time = cw$Time,
                Chick = as.character(cw$Chick),
                Diet = as.integer(cw$Diet)),   # levels "1".."4": code == label
     "ChickWeight.csv")

cb <- lme4::cbpp
wcsv(data.frame(herd = as.integer(cb$herd), incidence = cb$incidence,
                size = cb$size, period = as.integer(cb$period)),  # codes == labels
     "cbpp.csv")
# cbpp as bernoulli rows (one per animal: 1 = incidence), for the GLMM row aggregation test
# (08_glmer_bernoulli.R): 842 rows with 56 distinct (herd, period) patterns.
wcsv(do.call(rbind, lapply(seq_len(nrow(cb)), function(i) data.frame(
       herd = as.integer(cb$herd[i]), period = as.integer(cb$period[i]),
       y = c(rep(1L, cb$incidence[i]), rep(0L, cb$size[i] - cb$incidence[i]))))),
     "cbpp_bernoulli.csv")

ot <- nlme::Orthodont
wcsv(data.frame(distance = ot$distance, age = ot$age,
                Subject = as.character(ot$Subject), Sex = as.character(ot$Sex)),
     "Orthodont.csv")

pe <- lme4::Penicillin
wcsv(data.frame(diameter = pe$diameter, plate = as.character(pe$plate),
                sample = as.character(pe$sample)),
     "Penicillin.csv")

oa <- nlme::Oats
wcsv(data.frame(yield = oa$yield, Block = as.character(oa$Block),
                Variety = as.character(oa$Variety), nitro = as.numeric(oa$nitro)),
     "Oats.csv")

gt <- lme4::grouseticks
# factors written as their labels (what write.csv does with a factor); all are integer-looking
wcsv(data.frame(INDEX = as.character(gt$INDEX), TICKS = gt$TICKS,
                BROOD = as.character(gt$BROOD), HEIGHT = gt$HEIGHT,
                YEAR = as.character(gt$YEAR), LOCATION = as.character(gt$LOCATION)),
     "grouseticks.csv")

va <- lme4::VerbAgg
wcsv(data.frame(id = lab_int(va$id), item = as.character(va$item), Anger = va$Anger,
                Gender = as.character(va$Gender), btype = as.character(va$btype),
                situ = as.character(va$situ), r2 = as.character(va$r2),
                resp = as.character(va$resp)),
     "VerbAgg.csv")

ie <- lme4::InstEval
# integer-looking labels -> the label as integer (NOT the internal factor code;
# for d and dept these differ)
wcsv(data.frame(s = lab_int(ie$s), d = lab_int(ie$d), dept = lab_int(ie$dept),
                studage = lab_int(ie$studage), service = lab_int(ie$service),
                lectage = lab_int(ie$lectage), y = ie$y),
     "InstEval.csv")

ss <- lme4::sleepstudy
wcsv(data.frame(Reaction = ss$Reaction, Days = ss$Days, Subject = as.character(ss$Subject)),
     "sleepstudy.csv")
wcsv(data.frame(Reaction = ss$Reaction, Days = ss$Days, Subject = as.character(ss$Subject),
                w = 1 + (ss$Days %% 3)),
     "sleepstudy_w.csv")

# small newdata sets for predict() (each includes one level unseen in fitting)
wcsv(data.frame(Days = c(0, 5, 9, 3), Subject = c("308", "308", "372", "999")),
     "newdata_sleepstudy.csv")
wcsv(data.frame(age = c(8, 12, 10, 14), Subject = c("M01", "F05", "X99", "F11"),
                Sex = c("Male", "Female", "Male", "Female")),
     "newdata_Orthodont.csv")
wcsv(data.frame(plate = c("a", "b", "zz", "x"), sample = c("A", "F", "B", "C")),
     "newdata_Penicillin.csv")
wcsv(data.frame(nitro = c(0.3, 0, 0.6, 0.2), Block = c("I", "VI", "VII", "III"),
                Variety = c("Victory", "Marvellous", "Golden Rain", "Golden Rain")),
     "newdata_Oats.csv")

# Simulated bernoulli data with a genuine random slope (VerbAgg's Anger slope
# variance is estimated at ~0, i.e. a singular fit). Deterministic seed.
set.seed(20240611)
ng <- 40; nper <- 60
g <- rep(seq_len(ng), each = nper)
x <- round(rnorm(ng * nper), 4)
S <- matrix(c(0.8^2, 0.3 * 0.8 * 0.6, 0.3 * 0.8 * 0.6, 0.6^2), 2)
b <- MASS::mvrnorm(ng, c(0, 0), S)
eta <- -0.3 + 0.7 * x + b[g, 1] + b[g, 2] * x
y <- rbinom(ng * nper, 1, plogis(eta))
wcsv(data.frame(y = y, x = x, g = g), "sim_bernoulli_slope.csv")
