# Reproduce every pooled estimate of this data package with metafor, from its files alone.
#
#   Rscript reproduce.R [FOLDER]      (FOLDER: the data package; default: this script's folder)
#
# Written by `livemeta export`. Reads data/analyses.csv (the analyses and their methods),
# data/analysis_rows.csv (the rows each analysis pooled, with the numbers as printed) and
# data/pooled_estimates.csv (the numbers livemeta stored at this revision). For every analysis:
#   1. the effect sizes again from the printed numbers: log hazard ratio and its variance from the
#      CI at the level the analysis reads it, (ln upper - ln lower) / (2 qnorm(1 - (1 - level)/2));
#      escalc() for odds and risk ratios (2x2 counts) and logit proportions (metafor's default
#      zero-cell rule: 1/2 added to every cell of a table with a zero); they must equal livemeta's;
#   2. rma(yi, vi, method, test, level) overall and per subgroup (method GLMM: rma.glmm(measure = "PLO",
#      xi, ni), the likelihood-ratio test of heterogeneity as q; it needs lme4); the prediction interval from
#      predict() (or, for the other PI distributions, est +/- crit sqrt(tau2 + se^2)); the test for
#      subgroup differences as Q of a fixed-effect rma() over the subgroup estimates (tau2 separate
#      per subgroup) or QM of rma(mods = ~ factor(subgroup)) (a common tau2);
#   3. every number compared with livemeta's: |metafor - livemeta| <= tol * max(1, |livemeta|), tol
#      1e-8 for closed-form estimators (FE, DL, HE, HS, SJ) and 1e-6 for iterative ones.
# Writes reproduced.csv (one row per number) and reproduced.json (%.17g), and exits with status 1
# when a number differs beyond its tolerance.
suppressPackageStartupMessages(library(metafor))

args <- commandArgs(trailingOnly = TRUE)
here <- if (length(args) >= 1) args[1] else {
  file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(file_arg)) dirname(sub("^--file=", "", file_arg[1])) else "."
}
# A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) or that begins with
# an apostrophe is written with one apostrophe before it (datapackage.json: livemeta.text_cells):
# unguard_cells() gives the exact value back, guard_cells() writes reproduced.csv the same way.
unguard_cells <- function(d) { for (j in seq_along(d)) if (is.character(d[[j]])) d[[j]] <- sub("^'", "", d[[j]]); d }
guard_cells <- function(d) {
  for (j in seq_along(d)) if (is.character(d[[j]])) {
    x <- d[[j]]
    f <- !is.na(x) & (grepl("^'", x) | (grepl("^[-=+@\t\r]", x) & !grepl("^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$", x)))
    d[[j]][f] <- paste0("'", x[f])
  }
  d
}
rd <- function(name) unguard_cells(read.csv(file.path(here, "data", paste0(name, ".csv")),
                                            stringsAsFactors = FALSE, na.strings = "", check.names = FALSE))
analyses <- rd("analyses")
rows <- rd("analysis_rows")
stored <- rd("pooled_estimates")
closed_form <- c("FE", "EE", "DL", "HE", "HS", "SJ")

effect_sizes <- function(s, measure) {
  if (measure == "HR") {
    sei <- (log(s$ci_high) - log(s$ci_low)) / (2 * qnorm(1 - (1 - s$ci_level_read / 100) / 2))
    return(list(yi = log(s$estimate), vi = sei^2))
  }
  if (measure %in% c("OR", "RR")) {
    es <- escalc(measure = measure, ai = s$ai, bi = s$bi, ci = s$ci, di = s$di)
  } else {
    es <- escalc(measure = "PLO", xi = s$xi, ni = s$ni)
  }
  list(yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

pred_interval <- function(res, pi, level) {
  if (res$method %in% c("FE", "EE")) return(c(res$ci.lb, res$ci.ub))  # a fixed effect: the PI is the CI
  if (pi == "default") {
    p <- predict(res)
    return(c(p$pi.lb, p$pi.ub))
  }
  crit <- switch(pi, "normal" = qnorm(1 - (1 - level) / 2), "t(k-1)" = qt(1 - (1 - level) / 2, res$k - 1),
                 "t(k-2)" = qt(1 - (1 - level) / 2, res$k - 2))
  b <- as.numeric(res$beta)
  half <- crit * sqrt(res$tau2 + res$se^2)
  c(b - half, b + half)
}

out <- list()
add <- function(analysis, stratum, quantity, metafor, livemeta, tol) {
  ok <- (is.na(metafor) && is.na(livemeta)) ||
    (!is.na(metafor) && !is.na(livemeta) && abs(metafor - livemeta) <= tol * max(1, abs(livemeta)))
  out[[length(out) + 1]] <<- data.frame(analysis = analysis, stratum = stratum, quantity = quantity,
                                        metafor = metafor, livemeta = livemeta, tolerance = tol, ok = ok,
                                        stringsAsFactors = FALSE)
}

compare_fit <- function(a, stratum, res, st, pi, level, tol) {
  if (nrow(st) != 1) {
    add(a, stratum, "stored", NA, 1, tol)
    return(invisible())
  }
  piv <- pred_interval(res, pi, level)
  add(a, stratum, "k", res$k, st$k, 0)
  add(a, stratum, "estimate", as.numeric(res$beta), st$estimate, tol)
  add(a, stratum, "se", res$se, st$se, tol)
  add(a, stratum, "ci_low", res$ci.lb, st$ci_low, tol)
  add(a, stratum, "ci_high", res$ci.ub, st$ci_high, tol)
  add(a, stratum, "p", res$pval, st$p, tol)
  if (res$k > 1) {
    add(a, stratum, "pi_low", piv[1], st$pi_low, tol)
    add(a, stratum, "pi_high", piv[2], st$pi_high, tol)
    add(a, stratum, "tau2", res$tau2, st$tau2, tol)
    add(a, stratum, "i2", res$I2, st$i2, tol)
    add(a, stratum, "q", res$QE, st$q, tol)
    add(a, stratum, "q_p", res$QEp, st$q_p, tol)
  }
}

for (i in seq_len(nrow(analyses))) {
  an <- analyses[i, ]
  a <- an$analysis_id
  s <- rows[rows$analysis_id == a, ]
  if (nrow(s) == 0) next
  tol <- if (an$method %in% closed_form) 1e-8 else 1e-6
  es <- effect_sizes(s, an$measure)
  add(a, "overall", "max |yi - livemeta yi|", max(abs(es$yi - s$yi)), 0, 1e-12)
  add(a, "overall", "max |vi - livemeta vi|", max(abs(es$vi - s$vi)), 0, 1e-12)
  fit <- function(j) rma(es$yi[j], es$vi[j], method = an$method, test = an$test, level = 100 * an$level)
  if (an$method == "GLMM") {  # proportions by the binomial-normal model: rma.glmm (needs lme4), its
    # optimiser run to convergence (metafor's default settings stop about 1e-5 short of the optimum)
    if (!requireNamespace("lme4", quietly = TRUE)) {
      add(a, "overall", "rma.glmm needs the R package lme4 (not installed)", NA, 1, tol)
      next
    }
    fit <- function(j) {
      r <- rma.glmm(measure = "PLO", xi = s$xi[j], ni = s$ni[j], level = 100 * an$level,
                    control = list(glmerCtrl = list(optimizer = "bobyqa",
                                                    optCtrl = list(rhobeg = 1e-3, rhoend = 1e-12, maxfun = 1e5))))
      r$QE <- r$QE.LRT; r$QEp <- r$QEp.LRT  # livemeta stores the likelihood-ratio test as q
      r
    }
  }
  st <- stored[stored$analysis_id == a, ]
  overall <- fit(seq_len(nrow(s)))
  compare_fit(a, "overall", overall, st[st$stratum == "overall", ], an$pi, an$level, tol)
  g <- s$subgroup
  if (!is.na(an$subgroup) && length(unique(g)) >= 2) {
    b <- c(); se <- c()
    for (lev in sort(unique(g))) {
      j <- which(g == lev)
      r <- fit(j)
      b <- c(b, as.numeric(r$beta)); se <- c(se, r$se)
      compare_fit(a, lev, r, st[st$stratum == lev, ], an$pi, an$level, tol)
    }
    o <- st[st$stratum == "overall", ]
    if (an$subgroup_tau2 == "separate") {
      between <- rma(b, sei = se, method = "FE")
      qb <- between$QE; pb <- between$QEp
    } else {
      m <- rma(es$yi, es$vi, mods = ~ factor(g), method = an$method, test = an$test)
      qb <- m$QM; pb <- m$QMp
    }
    add(a, "overall", "q_between", qb, o$q_between, tol)
    add(a, "overall", "p_between", pb, o$p_between, tol)
  }
}

res <- do.call(rbind, out)
write.csv(guard_cells(res), file.path(here, "reproduced.csv"), row.names = FALSE)
num <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
str_ <- function(x) paste0('"', gsub('"', '\\\\"', x), '"')
md5 <- tools::md5sum(file.path(here, "data", c("analyses.csv", "analysis_rows.csv", "pooled_estimates.csv")))
items <- vapply(seq_len(nrow(res)), function(i) paste0(
  "    {", '"analysis": ', str_(res$analysis[i]), ', "stratum": ', str_(res$stratum[i]),
  ', "quantity": ', str_(res$quantity[i]), ', "metafor": ', num(res$metafor[i]),
  ', "livemeta": ', num(res$livemeta[i]), ', "tolerance": ', num(res$tolerance[i]),
  ', "ok": ', tolower(as.character(res$ok[i])), "}"), "")
json <- paste0("{\n",
  '  "generated_by": "reproduce.R of a livemeta data package",\n',
  '  "r_version": ', str_(R.version.string), ",\n",
  '  "metafor_version": ', str_(as.character(packageVersion("metafor"))), ",\n",
  '  "inputs_md5": {', paste(sprintf('"%s": "%s"', basename(names(md5)), md5), collapse = ", "), "},\n",
  '  "results": [\n', paste(items, collapse = ",\n"), "\n  ]\n}\n")
writeLines(json, file.path(here, "reproduced.json"), sep = "")
bad <- res[!res$ok, ]
cat(sprintf("%d analyses, %d numbers compared with metafor %s: %s\n", length(unique(res$analysis)), nrow(res),
            as.character(packageVersion("metafor")),
            if (nrow(bad) == 0) "all within tolerance" else sprintf("%d beyond tolerance", nrow(bad))))
if (nrow(bad) > 0) {
  print(bad)
  quit(status = 1)
}
