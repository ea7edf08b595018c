#!/usr/bin/env Rscript
## Reference values for the boundaries of looks at or past the required information
## (livemeta.pooling.sequential: monitor(overrun=), _look_boundaries, crossing_probability)
## from R rpact 3.3.4 (issue 23).
##
## A case whose planned boundaries reach rpact's search limit (8) is left out and listed in the header.
##
## Usage (from the repository root):
##   Rscript tests/pooling/reference/make_reference_overrun.R [OUT_DIR]
## writes tests/pooling/reference/overrun_reference.json (read by
## tests/pooling/test_sequential_overrun.py; CI never runs R). No randomness, no time stamps.
##
## A case is a set of cumulative information fractions (accrued / required information) of the
## looks of a monitoring, some of them at or past 1, with a spending function, alpha and sidedness.
##   planned: getDesignGroupSequential(typeOfDesign = type, informationRates = c(fractions below 1, 1))
##            -> criticalValues, alphaSpent (the boundaries of the looks below 1 and the one planned at 1)
##   alpha-preserving over-run (Jennison & Turnbull 2000, sec. 7.2.2): the first look at or past 1 is
##            the final analysis, spending alpha minus what the looks below 1 spent, with the
##            correlations of the information actually accrued:
##            getDesignGroupSequential(typeOfDesign = "asUser",
##                informationRates = fractions[1:m] / fractions[m],
##                userAlphaSpending = c(planned alphaSpent of the looks below 1, alpha))$criticalValues
##   final-boundary convention (the TSA software): the planned boundary at 1 reused at every look
##            at or past 1; its realised type I error over all the looks, and that of the
##            alpha-preserving boundaries (later looks untested), from
##            getGroupSequentialProbabilities(decision matrix, fractions / last fraction):
##            sum over looks of P(stop below the lower bound) + P(stop above the upper bound)
##            (two-sided; one-sided with no lower bound, given to rpact as -8, its lowest bound).
## The first cases are the bundled looks at HR 0.80 with the D2 adjustment: OS (fractions 0.2801,
## 0.8905, 2.0812, 2.6623: the final analysis at the third look, 2024, needs |z| >= 2.30; the reused
## boundary spends 6.5% over three looks, 8.2% over four) and PFS (0.3200, 1.0782).

suppressPackageStartupMessages(library(rpact))
source(file.path("tests", "pooling", "reference", "json_writer.R"))

out_file <- reference_out(file.path("tests", "pooling", "reference", "overrun_reference.json"))

sets <- list(
  os_bundled = c(0.2800707221037953, 0.8904656134553315, 2.0812233466685672, 2.662331401558119),
  pfs_bundled = c(0.3199596727180415, 1.0781652605081455),
  just_past = c(0.5, 1.2),
  exactly_one = c(0.3, 0.6, 1.0, 1.4),
  first_past = c(1.5, 2.5),
  five = c(0.2, 0.5, 0.9, 1.3, 1.7),
  close_past = c(0.45, 0.97, 1.02),
  many_past = c(0.15, 0.4, 0.7, 1.1, 1.5, 2.0, 3.0),
  none_past = c(0.136, 0.425, 0.708))

realised <- function(rates, crit, sided) {
  # crit: +Inf where a look is not tested; rpact wants finite bounds: 8 (its upper limit) stands in
  up <- pmin(crit, 8)
  lo <- if (sided == 2) -up else rep(-8, length(up))
  p <- getGroupSequentialProbabilities(rbind(lo, up), rates / rates[length(rates)])
  stop_below <- if (sided == 2) sum(p[1, ]) else 0
  stop_below + sum(p[3, ] - p[2, ])
}

cases <- list()
skipped <- character(0)
for (set in names(sets)) for (type in c("asOF", "asP")) for (sa in list(c(2, 0.05), c(2, 0.01), c(1, 0.025))) {
  f <- sets[[set]]
  sided <- sa[1]
  alpha <- sa[2]
  below <- f[f < 1]
  nb <- length(below)
  m <- if (any(f >= 1)) nb + 1L else NA_integer_
  planned <- getDesignGroupSequential(kMax = nb + 1L, alpha = alpha, sided = sided, typeOfDesign = type,
                                      informationRates = c(below, 1))
  final_crit <- planned$criticalValues[nb + 1L]
  id <- sprintf("%s/sided%d/alpha%g/%s", type, sided, alpha, set)
  if (any(!is.finite(planned$criticalValues)) || any(planned$criticalValues > 7.9)) {
    skipped <- c(skipped, paste(id, "(a critical value at rpact's search limit 8)"))
    next
  }
  values <- list(planned_critical = as_array(planned$criticalValues), planned_spent = as_array(planned$alphaSpent))
  call <- sprintf("getDesignGroupSequential(kMax = %d, alpha = %g, sided = %d, typeOfDesign = \"%s\", informationRates = c(%s))",
                  nb + 1L, alpha, sided, type, paste(sprintf("%.17g", c(below, 1)), collapse = ", "))
  if (!is.na(m)) {
    rates <- f[1:m] / f[m]
    user <- c(planned$alphaSpent[seq_len(nb)], alpha)
    over <- getDesignGroupSequential(kMax = m, alpha = alpha, sided = sided, typeOfDesign = "asUser",
                                     informationRates = rates, userAlphaSpending = user)
    ap <- c(over$criticalValues, rep(Inf, length(f) - m))
    fb <- c(planned$criticalValues[seq_len(nb)], rep(final_crit, length(f) - nb))
    values$overrun_critical <- as_array(over$criticalValues)
    values$alpha_preserving_bounds <- as_array(ap)
    values$final_boundary_bounds <- as_array(fb)
    values$alpha_preserving_total <- realised(f, ap, sided)
    values$final_boundary_total <- realised(f, fb, sided)
    call <- paste0(call, sprintf("; getDesignGroupSequential(kMax = %d, alpha = %g, sided = %d, typeOfDesign = \"asUser\", informationRates = fractions[1:%d] / fractions[%d], userAlphaSpending = c(alphaSpent[1:%d], %g)); getGroupSequentialProbabilities()",
                                 m, alpha, sided, m, m, nb, alpha))
  } else {
    values$alpha_preserving_total <- realised(f, planned$criticalValues[seq_len(nb)], sided)
  }
  cases[[length(cases) + 1L]] <- list(
    id = id, kind = if (is.na(m)) "no_overrun" else "overrun", typeOfDesign = type, alpha = alpha,
    sided = as.integer(sided), fractions = as_array(f), overrun_look = if (is.na(m)) NULL else m,
    call = call, values = values)
}

kinds <- table(vapply(cases, function(cs) cs$kind, character(1)))
header <- c(list(generator = "tests/pooling/reference/make_reference_overrun.R"), versions(),
            list(grid = list(n_cases = length(cases), counts = setNames(as.list(as.integer(kinds)), names(kinds)),
                             skipped = as_array(skipped))))
write_reference(out_file, header, cases)
