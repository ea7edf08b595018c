# Reproduce every pooled estimate of this data package with metafor, from its files alone.
#
#   Rscript reproduce.R [FOLDER]      (FOLDER: the data package; default: this script's folder)
#
# Written by `livemeta export`. Reads data/analyses.csv (the analyses and their methods),
# data/analysis_rows.csv (the rows each analysis pooled, with the numbers as printed) and
# data/pooled_estimates.csv (the numbers livemeta stored at this revision). For every analysis:
#   1. the effect sizes again from the printed numbers, by the rule each row names (its `derivation`
#      column, with the numbers that rule reads; an unknown rule stops the script):
#        ci              yi = log(HR), vi = ((log upper - log lower) / (2 z))^2, z = qnorm(1 - (1 -
#                        level)/2) at the level the analysis reads the CI (ci_level_read)
#        p_value         yi = log(HR), vi = (log(HR) / z)^2, z = qnorm(1 - p/2) (two-sided) or qnorm(1 - p)
#        oe_v            yi = (O - E) / V, vi = 1 / V
#        logrank_chisq   yi = log(HR), vi = log(HR)^2 / chi2
#        p_events        V = D r / (1 + r)^2 (D events, r = allocation), yi = sign sqrt(V) z / V, vi = 1 / V,
#                        z from the printed p as for p_value (Parmar et al. 1998; Tierney et al. 2007)
#        logrank_events  the same with z = sqrt(chi2)
#        counts          escalc() for odds and risk ratios (2x2 counts) and logit proportions
#                        (metafor's default zero-cell rule: 1/2 added to every cell of a table with a zero)
#      they must equal livemeta's yi/vi; and each study's interval as livemeta shows it
#      (shown_estimate, shown_ci_low, shown_ci_high) must be the printed one where `interval` says
#      printed, x / n with its exact (Clopper-Pearson) interval where it says exact (a proportion),
#      else exp(yi -/+ z sqrt(vi)) at the analysis's level;
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

hr_effect_sizes <- function(s) {
  z_p <- ifelse(s$p_sided == "two", qnorm(s$p_value / 2, lower.tail = FALSE),
                ifelse(s$p_sided == "one", qnorm(s$p_value, lower.tail = FALSE), NA))
  v_events <- s$events * s$allocation / (1 + s$allocation)^2
  yi <- rep(NA_real_, nrow(s)); vi <- rep(NA_real_, nrow(s))
  for (j in seq_len(nrow(s))) {
    r <- s[j, ]
    rule <- r$derivation
    if (rule == "ci") {
      yi[j] <- log(r$estimate)
      vi[j] <- ((log(r$ci_high) - log(r$ci_low)) / (2 * qnorm(1 - (1 - r$ci_level_read / 100) / 2)))^2
    } else if (rule == "p_value") {
      yi[j] <- log(r$estimate); vi[j] <- (log(r$estimate) / z_p[j])^2
    } else if (rule == "oe_v") {
      yi[j] <- r$o_minus_e / r$oe_variance; vi[j] <- 1 / r$oe_variance
    } else if (rule == "logrank_chisq") {
      yi[j] <- log(r$estimate); vi[j] <- log(r$estimate)^2 / r$logrank_chisq
    } else if (rule %in% c("p_events", "logrank_events")) {
      z <- if (rule == "p_events") z_p[j] else sqrt(r$logrank_chisq)
      yi[j] <- r$direction * sqrt(v_events[j]) * z / v_events[j]; vi[j] <- 1 / v_events[j]
    } else {
      stop(sprintf("analysis %s, trial %s: unknown derivation '%s' (this reproduce.R knows ci, p_value, oe_v, ",
                   r$analysis_id, r$trial_id, rule), "logrank_chisq, p_events, logrank_events, counts)")
    }
  }
  list(yi = yi, vi = vi)
}

effect_sizes <- function(s, measure) {
  if (measure == "HR") return(hr_effect_sizes(s))
  if (any(s$derivation != "counts")) stop(sprintf("analysis %s: %s rows are made from counts", s$analysis_id[1], measure))
  if (measure %in% c("OR", "RR")) {
    es <- escalc(measure = measure, ai = s$ai, bi = s$bi, ci = s$ci, di = s$di)
  } else {
    es <- escalc(measure = "PLO", xi = s$xi, ni = s$ni)
  }
  list(yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

# each study's estimate and interval as livemeta shows it: the printed ones where it says so, else
# the interval the pooled yi/vi imply at the analysis's level (ratio scale, or a proportion)
shown_intervals <- function(s, measure, level) {
  back <- if (measure == "proportion") plogis else exp
  z <- qnorm(1 - (1 - level) / 2)
  est <- back(s$yi); lo <- back(s$yi - z * sqrt(s$vi)); hi <- back(s$yi + z * sqrt(s$vi))
  printed <- s$interval == "printed"
  if (any(printed)) {
    est[printed] <- s$estimate[printed]; lo[printed] <- s$ci_low[printed]; hi[printed] <- s$ci_high[printed]
  }
  exact <- s$interval == "exact"  # a proportion as the study shows it: x / n, binom.test's exact interval
  if (any(exact)) {
    x <- s$xi[exact]; n <- s$ni[exact]; a2 <- (1 - level) / 2
    est[exact] <- x / n
    lo[exact] <- ifelse(x == 0, 0, qbeta(a2, x, n - x + 1))
    hi[exact] <- ifelse(x == n, 1, qbeta(1 - a2, x + 1, n - x))
  }
  list(estimate = est, ci_low = lo, ci_high = hi)
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
  s <- rows[rows$analysis_id == a, , drop = FALSE]
  if (nrow(s) == 0) next
  tol <- if (an$method %in% closed_form) 1e-8 else 1e-6
  es <- effect_sizes(s, an$measure)
  add(a, "overall", "max |yi - livemeta yi|", max(abs(es$yi - s$yi)), 0, 1e-12)
  add(a, "overall", "max |vi - livemeta vi|", max(abs(es$vi - s$vi)), 0, 1e-12)
  sh <- shown_intervals(s, an$measure, an$level)
  add(a, "overall", "max |shown interval - livemeta's|",
      max(abs(c(sh$estimate - s$shown_estimate, sh$ci_low - s$shown_ci_low, sh$ci_high - s$shown_ci_high))), 0, 1e-12)
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
  st <- stored[stored$analysis_id == a, , drop = FALSE]
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

res <- if (length(out)) do.call(rbind, out) else
  data.frame(analysis = character(), stratum = character(), quantity = character(), metafor = numeric(),
             livemeta = numeric(), tolerance = numeric(), ok = logical())  # a revision without studies
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
