#!/usr/bin/env Rscript
## Reference values for livemeta.pooling.metareg (meta-regression) from R metafor.
##
## Usage (from the repository root):
##   Rscript tests/pooling/reference/make_reference_metareg.R [OUT_DIR]
##   (OUT_DIR: write the file there instead; tests/reference/regenerate.py runs every reference
##   script into a temporary folder and compares each file with the committed one, byte for byte)
## writes tests/pooling/reference/metareg_reference.json (read by
## tests/pooling/test_metareg_reference.py; CI never runs R).  Fixed RNG kind and
## seeds, no time stamps, every number sprintf("%.17g"): rerunning with the same
## R / metafor / metadat reproduces the file byte for byte.
##
## Grid: every design below x rma(method=) in FE, DL, REML, ML, PM, EB, SJ, HE, HS
## x test= in "z", "knha":
##   * dat.bcg, log risk ratios: ~ ablat; ~ ablat + year; ~ factor(alloc);
##     ~ ablat - 1; ~ factor(alloc) - 1
##   * Berkey et al. (1995) as metafor's own test pins it
##     (tests/testthat/test_analysis_example_berkey1995.r): dat.bcg with the
##     "smoothed" sampling variances, ~ I(ablat - 33.46), predictions at
##     ablat 33.46 and 42
##   * 48 seeded random data sets (k = 3..40, 1-3 continuous or binary
##     moderators, true tau2 in 0, 0.02, 0.1, 0.5, every sixth without intercept,
##     some with k = p + 1)
## Each case stores coef, se, zval, pval, CI, vb, tau2, se.tau2, I2, H2, R2, QE,
## QEp, QM, QMdf, QMp, weights, and predict(res, newmods=) (pred, se, CI, PI).
## Plus cases where metafor stops (too few studies, non-convergence, tau2.max too
## low): the case carries "error" instead of values.

suppressPackageStartupMessages(library(metafor))
source(file.path("tests", "pooling", "reference", "json_writer.R"))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

out_file <- reference_out(file.path("tests", "pooling", "reference", "metareg_reference.json"))
methods <- c("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")
tests <- c("z", "knha")

designs <- list()
add_design <- function(name, data, formula, newmods, source) {
  designs[[name]] <<- list(data = data, formula = formula, newmods = newmods, source = source)
}

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg_src <- "escalc(\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)"
add_design("bcg_ablat", bcg, ~ ablat, matrix(c(10, 33.46, 55), ncol = 1), bcg_src)
add_design("bcg_ablat_year", bcg, ~ ablat + year,
           rbind(c(20, 1950), c(33.46, 1965), c(50, 1980)), bcg_src)
add_design("bcg_alloc", bcg, ~ factor(alloc), rbind(c(0, 0), c(1, 0), c(0, 1)), bcg_src)
add_design("bcg_ablat_noint", bcg, ~ ablat - 1, matrix(c(0, 33.46), ncol = 1), bcg_src)
add_design("bcg_alloc_cellmeans", bcg, ~ factor(alloc) - 1, diag(3), bcg_src)

berkey <- bcg
berkey$vi <- with(berkey, sum(tneg / tpos) / (13 * (tneg + tpos)) + sum(cneg / cpos) / (13 * (cneg + cpos)))
add_design("berkey1995", berkey, ~ I(ablat - 33.46), matrix(c(33.46, 42) - 33.46, ncol = 1),
           paste(bcg_src, "; vi <- sum(tneg/tpos)/(13*(tneg+tpos)) + sum(cneg/cpos)/(13*(cneg+cpos))",
                 "(Berkey et al. 1995; metafor tests/testthat/test_analysis_example_berkey1995.r)"))

tau2_cycle <- c(0, 0.02, 0.1, 0.5)
for (i in 1:48) {
  seed <- 20250000L + i
  set.seed(seed)
  m <- 1L + ((i - 1L) %% 3L)
  intercept <- (i %% 6L) != 0L
  p <- m + intercept
  k <- if (i %% 8L == 0L) p + 1L else sample(seq(p + 2L, 40L), 1L)
  tau2 <- tau2_cycle[(i - 1L) %% 4L + 1L]
  vi <- 10^runif(k, -2.5, -0.5)
  mods <- list()
  for (j in seq_len(m)) {
    mods[[paste0("x", j)]] <- if ((i + j) %% 4L == 0L) rbinom(k, 1, 0.5) else round(rnorm(k, 5, 3), 2)
  }
  ## a binary moderator that came out constant would not be estimable: flip one value
  for (j in seq_len(m)) {
    xj <- mods[[j]]
    if (length(unique(xj)) == 1L) { xj[1] <- 1 - xj[1]; mods[[j]] <- xj }
  }
  X <- do.call(cbind, mods)
  slope <- runif(m, -0.2, 0.2)
  mu <- if (intercept) runif(1, -1, 1) else 0
  yi <- rnorm(k, mu + c(X %*% slope), sqrt(vi + tau2))
  d <- data.frame(yi = yi, vi = vi, mods)
  rhs <- paste(names(mods), collapse = " + ")
  f <- as.formula(paste("~", rhs, if (!intercept) "- 1" else ""))
  nm <- t(vapply(c(0.1, 0.5, 0.9), function(q) vapply(mods, function(x) unname(quantile(x, q)), numeric(1)),
                 numeric(m)))
  if (m == 1L) nm <- matrix(nm, ncol = 1)
  add_design(sprintf("random_%02d", i), d, f, nm,
             sprintf("set.seed(%d); k = %d, %d moderator(s), tau2 = %g, intercept = %s (see script)",
                     seed, k, m, tau2, intercept))
}

## --------------------------------------------------------------- fitting
cases <- list()
design_json <- list()
fit_case <- function(dname, method, test, control = NULL, tag = NULL) {
  ds <- designs[[dname]]
  call_txt <- sprintf("rma(yi, vi, mods = %s, data = d, method = \"%s\", test = \"%s\"%s)",
                      paste(deparse(ds$formula), collapse = ""), method, test,
                      if (is.null(control)) "" else
                        paste0(", control = list(", paste(names(control), unlist(control), sep = " = ", collapse = ", "), ")"))
  args <- list(yi = ds$data$yi, vi = ds$data$vi, mods = ds$formula, data = ds$data,
               method = method, test = test)
  if (!is.null(control)) args$control <- control
  res <- tryCatch(suppressWarnings(do.call(rma, args)), error = function(e) e)
  case <- list(id = paste(c(dname, method, test, tag), collapse = "/"), design = dname,
               method = method, test = test, call = call_txt)
  if (!is.null(control)) case$control <- control
  if (inherits(res, "error")) {
    case$error <- conditionMessage(res)
    cases[[length(cases) + 1L]] <<- case
    return(invisible())
  }
  pr <- predict(res, newmods = ds$newmods)
  case$values <- list(
    beta = as_array(c(res$beta)), se = as_array(res$se), zval = as_array(res$zval),
    pval = as_array(res$pval), ci.lb = as_array(res$ci.lb), ci.ub = as_array(res$ci.ub),
    vb = unname(res$vb), tau2 = res$tau2, se.tau2 = res$se.tau2, I2 = res$I2, H2 = res$H2,
    R2 = if (is.null(res$R2)) NA else res$R2, QE = res$QE, QEp = res$QEp, QM = res$QM,
    QMdf = as_array(res$QMdf), QMp = res$QMp, k = res$k, p = res$p,
    weights = as_array(unname(weights(res))),
    predict = list(pred = as_array(pr$pred), se = as_array(pr$se), ci.lb = as_array(pr$ci.lb),
                   ci.ub = as_array(pr$ci.ub), pi.lb = as_array(pr$pi.lb), pi.ub = as_array(pr$pi.ub)))
  if (is.null(design_json[[dname]])) {
    X <- model.matrix(res)
    int <- res$int.incl
    cols <- colnames(X)
    mods <- if (int) X[, -1, drop = FALSE] else X
    design_json[[dname]] <<- list(
      source = ds$source, formula = paste(deparse(ds$formula), collapse = ""),
      intercept = int, names = as_array(colnames(mods)),
      yi = as_array(ds$data$yi), vi = as_array(ds$data$vi),
      mods = lapply(seq_len(ncol(mods)), function(j) as_array(unname(mods[, j]))),
      newmods = unname(ds$newmods))
  }
  cases[[length(cases) + 1L]] <<- case
  invisible()
}

for (dname in names(designs)) for (m in methods) for (t in tests) fit_case(dname, m, t)
## where metafor stops
for (m in c("REML", "ML", "EB")) fit_case("bcg_ablat", m, "z", control = list(maxiter = 2), tag = "maxiter2")
fit_case("bcg_ablat", "PM", "z", control = list(tau2.max = 0.001), tag = "tau2max")
small <- bcg[1:3, ]
add_design("bcg_ablat_year_k3", small, ~ ablat + year, rbind(c(40, 1950)), bcg_src)
for (m in c("FE", "REML", "DL")) fit_case("bcg_ablat_year_k3", m, "z")

## Berkey et al. (1995), p. 408, as metafor's test_analysis_example_berkey1995.r pins them
published <- list(
  source = "Berkey CS, Hoaglin DC, Mosteller F, Colditz GA (1995). A random-effects regression model for meta-analysis. Statistics in Medicine 14:395-411, p. 408; metafor tests/testthat/test_analysis_example_berkey1995.r",
  EB = list(coef = as_array(c(-0.6303, -0.0268)), se = as_array(c(0.1591, 0.0110)), tau2 = 0.1572,
            R2_anova = 41.3844, pred_exp = as_array(c(0.5324, 0.4236))),
  FE = list(coef = as_array(c(-0.5949, -0.0282)), se = as_array(c(0.0696, 0.0040)),
            pred_exp = as_array(c(0.5516, 0.4336))),
  EB_intercept_only = list(coef = -0.5429, se = 0.1842, tau2 = 0.2682),
  tolerance = "printed to 4 decimals; metafor tests them with tolerance .tol = 1e-4 (coef, se, var, pred) and 1e-2 (R2)")

n_err <- sum(vapply(cases, function(cs) !is.null(cs$error), logical(1)))
header <- c(list(generator = "tests/pooling/reference/make_reference_metareg.R"),
            versions(),
            list(rng = paste(RNGkind(), collapse = "/"),
                 grid = list(methods = as_array(methods), tests = as_array(tests),
                             n_designs = length(design_json), n_cases = length(cases),
                             n_error = n_err),
                 berkey1995_published = published,
                 designs = design_json))
write_reference(out_file, header, cases)
