#!/usr/bin/env Rscript
## Reference values for livemeta.pooling.hazard (log hazard ratios from reported
## statistics) from the R functions of guido-s/calcTE (Schwarzer; Parmar et al. 1998).
##
## Usage (from the repository root), with a checkout of https://github.com/guido-s/calcTE:
##   CALCTE_DIR=/path/to/calcTE CALCTE_COMMIT=<sha> Rscript tests/pooling/reference/make_reference_hazard.R [OUT_DIR]
##   (OUT_DIR: write the file there instead; tests/reference/regenerate.py runs every reference
##   script into a temporary folder and compares each file with the committed one, byte for byte)
## writes tests/pooling/reference/hazard_reference.json (read by
## tests/pooling/test_hazard_reference.py; CI never runs R).  calcTE's code is not
## copied here: it is sourced from CALCTE_DIR.  It calls four internal helpers of
## the R package meta (not shipped by Debian): the script defines them below with
## meta's behaviour for valid input and strips the "meta:::" prefix when sourcing.
##
## Grid:
##   * calcTE.pval(estimate, p.value, sm = "HR"): HR x two-sided p, and one-sided
##     p passed as 2 p (Lung-MAP S1800A's HR 0.69 with one-sided P = .05 among them)
##   * calcTE.pval(p.value, event.e, event.c[, n.e, n.c], above.null): both of
##     calcTE's variances (method1: total events and allocation, method2: events
##     per arm), with and without arm sizes, both directions; total events with an
##     allocation ratio r as event.e = event.c = D/2, n.e = r, n.c = 1
##   * log-rank chi-square: calcTE.pval(p.value = pchisq(chi2, 1, lower = FALSE), ...)
##     with the HR or with the events
##   * calcTE.OE(obs.e, exp.e, V = V) and calcTE.OE(obs.e, exp.e, obs.c, exp.c)
##   * calcTE.ci(estimate, lower, upper, level, sm = "HR") at 95%, 90% and 80%

source(file.path("tests", "pooling", "reference", "json_writer.R"))

calcte_dir <- Sys.getenv("CALCTE_DIR")
if (!nzchar(calcte_dir)) stop("set CALCTE_DIR to a checkout of https://github.com/guido-s/calcTE")

## --- the meta internals calcTE uses (meta 6.x semantics for the arguments used here)
chknumeric <- function(x, min, max, zero = FALSE, ...) {
  if (!is.numeric(x)) stop("Argument must be numeric.")
  if (!missing(min) && any(x[!is.na(x)] < min)) stop("Argument below its minimum.")
  if (!missing(min) && !zero && any(x[!is.na(x)] == min)) stop("Argument must be larger than its minimum.")
  invisible(NULL)
}
chklogical <- function(x, ...) if (!is.logical(x)) stop("Argument must be logical.")
chklevel <- function(x, ...) if (any(x <= 0 | x >= 1)) stop("Level must lie in (0, 1).")
is.relative.effect <- function(sm) sm %in% c("HR", "OR", "RR", "IRR", "ROM", "DOR")

for (f in c("calcTE.pval.R", "calcTE.OE.R", "calcTE.ci.R")) {
  txt <- readLines(file.path(calcte_dir, f))
  eval(parse(text = gsub("meta:::", "", txt, fixed = TRUE)))
}
calcte_commit <- Sys.getenv("CALCTE_COMMIT", unset = NA)

out_file <- reference_out(file.path("tests", "pooling", "reference", "hazard_reference.json"))
cases <- list()
add <- function(id, kind, inputs, call, res) {
  cases[[length(cases) + 1L]] <<- list(id = id, kind = kind, inputs = inputs, call = call,
                                      values = list(TE = as_array(res$TE), seTE = as_array(res$seTE)))
}

## --- HR and p
hrs <- c(0.5, 0.69, 0.8, 0.95, 1.2, 2)
for (hr in hrs) for (p in c(0.001, 0.01, 0.05, 0.1, 0.3, 0.7)) {
  add(sprintf("p/hr%g/p%g/two-sided", hr, p), "p_estimate", list(hr = hr, p = p, sided = 2L),
      sprintf("calcTE.pval(estimate = %g, p.value = %g, sm = \"HR\")", hr, p),
      calcTE.pval(estimate = hr, p.value = p, sm = "HR"))
}
for (hr in hrs) for (p1 in c(0.005, 0.025, 0.05, 0.1, 0.2)) {
  add(sprintf("p/hr%g/p%g/one-sided", hr, p1), "p_estimate", list(hr = hr, p = p1, sided = 1L),
      sprintf("calcTE.pval(estimate = %g, p.value = 2 * %g, sm = \"HR\")", hr, p1),
      calcTE.pval(estimate = hr, p.value = 2 * p1, sm = "HR"))
}

## --- p and events (no HR)
ev <- list(c(50, 70), c(120, 150), c(12, 30), c(300, 290), c(5, 9))
ns <- list(c(100, 100), c(200, 100), c(150, 300))
for (e in ev) for (p in c(0.004, 0.05, 0.3)) for (up in c(TRUE, FALSE)) {
  for (sided in c(2L, 1L)) {
    if (sided == 1L && p >= 0.5) next
    pp <- if (sided == 1L) 2 * p else p
    r <- calcTE.pval(p.value = pp, event.e = e[1], event.c = e[2], above.null = up)
    base <- list(p = p, sided = sided, events_e = e[1], events_c = e[2], hr_above_1 = up)
    call <- sprintf("calcTE.pval(p.value = %s, event.e = %g, event.c = %g, above.null = %s)",
                    if (sided == 1L) sprintf("2 * %g", p) else sprintf("%g", p), e[1], e[2], up)
    id <- sprintf("events/%g-%g/p%g/%s/%s", e[1], e[2], p, if (sided == 1L) "one" else "two", if (up) "up" else "down")
    cases[[length(cases) + 1L]] <- list(id = paste0(id, "/method1"), kind = "p_events", inputs = c(base, list(variance = "total")),
                                       call = call, values = list(TE = r$TE[1], seTE = r$seTE[1]))
    cases[[length(cases) + 1L]] <- list(id = paste0(id, "/method2"), kind = "p_events", inputs = c(base, list(variance = "product")),
                                       call = call, values = list(TE = r$TE[2], seTE = r$seTE[2]))
    for (n in ns) {
      r <- calcTE.pval(p.value = pp, event.e = e[1], event.c = e[2], n.e = n[1], n.c = n[2], above.null = up)
      cases[[length(cases) + 1L]] <- list(
        id = sprintf("%s/n%g-%g/method1", id, n[1], n[2]), kind = "p_events",
        inputs = c(base, list(n_e = n[1], n_c = n[2], variance = "total")),
        call = sub(")$", sprintf(", n.e = %g, n.c = %g)", n[1], n[2]), call),
        values = list(TE = r$TE[1], seTE = r$seTE[1]))
    }
  }
}
## total events and an allocation ratio (V = D r / (1 + r)^2)
for (d in c(60, 250, 631)) for (ratio in c(1, 2, 0.5)) for (p in c(0.01, 0.2)) {
  r <- calcTE.pval(p.value = p, event.e = d / 2, event.c = d / 2, n.e = ratio, n.c = 1, above.null = FALSE)
  add(sprintf("total/%g/r%g/p%g", d, ratio, p), "p_total_events",
      list(p = p, sided = 2L, events = d, ratio = ratio, hr_above_1 = FALSE),
      sprintf("calcTE.pval(p.value = %g, event.e = %g/2, event.c = %g/2, n.e = %g, n.c = 1, above.null = FALSE)", p, d, d, ratio),
      list(TE = r$TE[1], seTE = r$seTE[1]))
}

## --- log-rank chi-square
for (chi in c(0.5, 3.2, 6.63, 11.4)) {
  pv <- pchisq(chi, 1, lower.tail = FALSE)
  for (hr in c(0.7, 1.3)) {
    add(sprintf("logrank/chi%g/hr%g", chi, hr), "logrank_estimate", list(chisq = chi, hr = hr),
        sprintf("calcTE.pval(estimate = %g, p.value = pchisq(%g, 1, lower.tail = FALSE), sm = \"HR\")", hr, chi),
        calcTE.pval(estimate = hr, p.value = pv, sm = "HR"))
  }
  for (e in ev[1:3]) {
    r <- calcTE.pval(p.value = pv, event.e = e[1], event.c = e[2], above.null = FALSE)
    add(sprintf("logrank/chi%g/events%g-%g", chi, e[1], e[2]), "logrank_events",
        list(chisq = chi, events_e = e[1], events_c = e[2], hr_above_1 = FALSE, variance = "total"),
        sprintf("calcTE.pval(p.value = pchisq(%g, 1, lower.tail = FALSE), event.e = %g, event.c = %g, above.null = FALSE)", chi, e[1], e[2]),
        list(TE = r$TE[1], seTE = r$seTE[1]))
  }
}

## --- O - E and V; observed and expected per arm
for (oe in list(c(40, 52.5, 28.1), c(95, 80.2, 41.7), c(12, 15.3, 6.2), c(200, 200, 99.5))) {
  add(sprintf("oe/O%g/E%g/V%g", oe[1], oe[2], oe[3]), "oe_v", list(o_minus_e = oe[1] - oe[2], v = oe[3]),
      sprintf("calcTE.OE(obs.e = %g, exp.e = %g, V = %g)", oe[1], oe[2], oe[3]),
      calcTE.OE(obs.e = oe[1], exp.e = oe[2], V = oe[3]))
}
for (x in list(c(40, 52.5, 60, 47.5), c(95, 80.2, 70, 84.8), c(12, 15.3, 20, 16.7))) {
  add(sprintf("obsexp/%g-%g-%g-%g", x[1], x[2], x[3], x[4]), "observed_expected",
      list(obs_e = x[1], exp_e = x[2], obs_c = x[3], exp_c = x[4]),
      sprintf("calcTE.OE(obs.e = %g, exp.e = %g, obs.c = %g, exp.c = %g)", x[1], x[2], x[3], x[4]),
      calcTE.OE(obs.e = x[1], exp.e = x[2], obs.c = x[3], exp.c = x[4]))
}

## --- HR and CI (Lung-MAP S1800A's printed interval 0.51-0.92 at 95% and read at 80%)
for (x in list(c(0.69, 0.51, 0.92), c(0.86, 0.77, 0.97), c(1.1, 0.8, 1.5))) for (lev in c(0.95, 0.9, 0.8)) {
  add(sprintf("ci/%g-%g-%g/%g", x[1], x[2], x[3], lev), "ci", list(hr = x[1], ci_low = x[2], ci_high = x[3], level = lev),
      sprintf("calcTE.ci(%g, %g, %g, level = %g, sm = \"HR\")", x[1], x[2], x[3], lev),
      calcTE.ci(x[1], x[2], x[3], level = lev, sm = "HR"))
}

kinds <- table(vapply(cases, function(cs) cs$kind, character(1)))
header <- c(list(generator = "tests/pooling/reference/make_reference_hazard.R"),
            versions(),
            list(calcTE = list(repository = "https://github.com/guido-s/calcTE", commit = calcte_commit,
                               files = as_array(c("calcTE.pval.R", "calcTE.OE.R", "calcTE.ci.R")),
                               meta_helpers = "chknumeric, chklogical, chklevel, is.relative.effect defined in the script"),
                 grid = list(n_cases = length(cases),
                             counts = setNames(as.list(as.integer(kinds)), names(kinds)))))
write_reference(out_file, header, cases)
