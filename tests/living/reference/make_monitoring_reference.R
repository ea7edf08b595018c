#!/usr/bin/env Rscript
## Trial sequential analyses of the bundled monitored analyses (os, pfs, os_acquired), computed with
## metafor and rpact independently of livemeta (issue 23).
##
## Reads monitoring_inputs.csv (derive_monitoring_inputs.py: the printed hazard ratios, first
## publication and the analyses file's target, alpha, power) and writes monitoring_reference.json.
## For each analysis, heterogeneity adjustment (D2, I2, none), over-run rule (alpha_preserving,
## final_boundary) and target (the analyses file's, and the limit of the pooled 95% CI on the
## target's side):
##   * looks: the distinct first-publication values (calendar years here), in order; a look pools
##     every trial first published by then;
##   * one model: with D2 or I2 the cumulative estimate and z come from the DerSimonian-Laird model
##     (rma(method = "DL")), the model the adjustment assumes (Wetterslev et al. 2009; TSA manual,
##     Thorlund et al. 2011); without adjustment from the fixed-effect model (rma(method = "FE"));
##     D2 = 1 - se(FE)^2 / se(DL)^2 and I2 from rma(method = "DL") of all the trials;
##   * information: cumulative sum of 1 / vi; required information (qnorm(1 - alpha/2) +
##     qnorm(power))^2 / log(target)^2 / (1 - adjustment);
##   * boundaries: rpact getDesignGroupSequential(typeOfDesign = "asOF", sided = 2) at the fractions
##     below 1 and at 1; at or past 1, alpha_preserving: the first such look is the final analysis,
##     typeOfDesign = "asUser" with informationRates = fractions[1:m] / fractions[m] and
##     userAlphaSpending = c(alphaSpent below 1, alpha), no later look tested; final_boundary: the
##     boundary planned at 1 at every such look;
##   * crossed: efficacy where the z on the target's side reaches the boundary, harm on the other side;
##   * the CI limit: the 95% CI of the monitoring model's estimate of all trials, its lower limit for
##     a target below 1.
##
##   python tests/living/reference/derive_monitoring_inputs.py     (from the repository root)
##   Rscript tests/living/reference/make_monitoring_reference.R
## With a folder as the first argument of both, the CSV and the JSON are written and read there.
suppressPackageStartupMessages({library(metafor); library(rpact)})
source(file.path("tests", "pooling", "reference", "json_writer.R"))  # versions(), reference_out(), write_reference()
here <- "tests/living/reference"
d <- read.csv(reference_out(file.path(here, "monitoring_inputs.csv")), stringsAsFactors = FALSE, na.strings = "",
              colClasses = c(first_published = "character"))
out_file <- reference_out(file.path(here, "monitoring_reference.json"))

monitoring <- function(s, het, overrun, target) {
  yi <- log(s$hr)
  sei <- (log(s$ci_high) - log(s$ci_low)) / (2 * qnorm(1 - (1 - s$ci_level / 100) / 2))
  from_p <- !is.na(s$p_value)
  sei[from_p] <- (abs(log(s$hr)) / qnorm(1 - s$p_value / ifelse(s$p_sided == "one", 1, 2)))[from_p]
  vi <- sei^2
  alpha <- s$alpha[1]
  power <- s$power[1]
  model <- if (het == "none") "FE" else "DL"
  adj <- 0
  if (het != "none" && length(yi) > 1) {
    fe <- rma(yi, vi, method = "FE")
    dl <- rma(yi, vi, method = "DL")
    adj <- if (het == "D2") max(0, 1 - fe$se^2 / dl$se^2) else dl$I2 / 100
  }
  looks <- sort(unique(s$first_published))
  z <- k <- info <- est <- se <- numeric(0)
  for (lk in looks) {
    sel <- s$first_published <= lk
    fit <- suppressWarnings(rma(yi[sel], vi[sel], method = if (sum(sel) == 1) "FE" else model))
    z <- c(z, fit$zval)
    est <- c(est, fit$beta[1])
    se <- c(se, fit$se)
    k <- c(k, sum(sel))
    info <- c(info, sum(1 / vi[sel]))
  }
  all <- suppressWarnings(rma(yi, vi, method = if (length(yi) == 1) "FE" else model))
  ci_limit <- if (log(target) < 0) all$ci.lb else all$ci.ub
  ris <- (qnorm(1 - alpha / 2) + qnorm(power))^2 / log(target)^2
  ris_adj <- ris / (1 - adj)
  f <- info / ris_adj
  below <- f[f < 1]
  nb <- length(below)
  planned <- getDesignGroupSequential(kMax = nb + 1L, alpha = alpha, sided = 2, typeOfDesign = "asOF",
                                      informationRates = c(below, 1))
  bound <- rep(NA_real_, length(f))
  bound[seq_len(nb)] <- planned$criticalValues[seq_len(nb)]
  m <- if (any(f >= 1)) nb + 1L else NA_integer_
  if (!is.na(m)) {
    if (overrun == "final_boundary") {
      bound[m:length(f)] <- planned$criticalValues[nb + 1L]
    } else {
      over <- getDesignGroupSequential(kMax = m, alpha = alpha, sided = 2, typeOfDesign = "asUser",
                                       informationRates = f[1:m] / f[m],
                                       userAlphaSpending = c(planned$alphaSpent[seq_len(nb)], alpha))
      bound[m] <- over$criticalValues[m]
    }
  }
  side <- sign(log(target))
  crossed <- ifelse(is.na(bound), "", ifelse(z * side >= bound, "efficacy", ifelse(-z * side >= bound, "harm", "")))
  first <- which(crossed != "")[1]
  list(target = target, model = model, adjustment = adj, required_information = ris_adj, looks = as_array(looks),
       k = as_array(as.integer(k)), information = as_array(info), fraction = as_array(f), estimate = as_array(est),
       se = as_array(se), z = as_array(z), bound = as_array(side * bound), crossed = as_array(crossed),
       first_crossed = if (is.na(first)) "" else paste(crossed[first], "at look", looks[first]),
       final_look = if (is.na(m) || overrun != "alpha_preserving") NULL else looks[m], ci_limit = exp(ci_limit))
}

cases <- list()
for (a in unique(d$analysis)) for (het in c("D2", "I2", "none")) for (overrun in c("alpha_preserving", "final_boundary")) {
  s <- d[d$analysis == a, ]
  main <- monitoring(s, het, overrun, s$target[1])
  limit <- monitoring(s, het, overrun, main$ci_limit)
  cases[[length(cases) + 1L]] <- list(
    id = sprintf("%s/%s/%s", a, het, overrun), kind = "monitoring", analysis = a, heterogeneity = het,
    overrun = overrun, at_target = main, at_ci_limit = limit)
}
kinds <- table(vapply(cases, function(cs) cs$kind, character(1)))
header <- c(list(generator = "tests/living/reference/make_monitoring_reference.R"), versions(),
            list(grid = list(n_cases = length(cases), counts = setNames(as.list(as.integer(kinds)), names(kinds)))))
write_reference(out_file, header, cases)
