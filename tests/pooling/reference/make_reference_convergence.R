#!/usr/bin/env Rscript
## Where metafor's iterative estimators stop, on random data (issue 15).
##
## Usage (from the repository root):
##   Rscript tests/pooling/reference/make_reference_convergence.R   (or tests/reference/regenerate.py)
## reads tests/pooling/reference/convergence_inputs.csv (written by
## export_convergence_inputs.py: the random analyses of benchmarks/bench_pooling.py where
## pool_many's REML, EB or ML did not converge, and 50 controls) and writes
## tests/pooling/reference/convergence_reference.json (read by
## tests/pooling/test_convergence_reference.py; CI never runs R).  No RNG, no time stamps, every
## number sprintf("%.17g").
##
## Each analysis x rma(method=) in REML, EB, ML, PM (default controls): metafor's error message,
## or tau2, se.tau2, the estimate and its se.

suppressPackageStartupMessages(library(metafor))
source(file.path("tests", "pooling", "reference", "json_writer.R"))

in_file <- file.path("tests", "pooling", "reference", "convergence_inputs.csv")
out_file <- reference_out(file.path("tests", "pooling", "reference", "convergence_reference.json"))
d <- read.csv(in_file, colClasses = c("integer", "numeric", "numeric"))
methods <- c("REML", "EB", "ML", "PM")

cases <- list()
errors <- setNames(as.list(rep(0L, length(methods))), methods)
for (a in sort(unique(d$analysis))) {
  s <- d[d$analysis == a, ]
  fits <- list()
  for (m in methods) {
    r <- tryCatch(rma(s$yi, s$vi, method = m), error = function(e) e)
    if (inherits(r, "error")) {
      fits[[m]] <- list(error = conditionMessage(r))
      errors[[m]] <- errors[[m]] + 1L
    } else {
      fits[[m]] <- list(tau2 = r$tau2, se_tau2 = r$se.tau2, estimate = as.numeric(r$beta), se = r$se)
    }
  }
  cases[[length(cases) + 1L]] <- list(id = sprintf("a%05d", a), kind = "analysis", analysis = a,
                                      yi = as_array(s$yi), vi = as_array(s$vi), fits = fits)
}

header <- c(list(generator = "tests/pooling/reference/make_reference_convergence.R"), versions(), list(description = paste(
  "metafor rma() on the random analyses of benchmarks/bench_pooling.py where pool_many's REML, EB",
  "or ML stopped, and 50 controls: the error where metafor stops, else tau2, se.tau2, estimate, se"),
  grid = list(methods = as_array(methods), counts = list(analysis = length(cases)), errors = errors)))
write_reference(out_file, header, cases)
