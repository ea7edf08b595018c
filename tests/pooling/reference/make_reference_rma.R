#!/usr/bin/env Rscript
## Reference values for livemeta.pooling (core estimator) computed with R metafor.
##
## Usage (from the repository root):
##   Rscript tests/pooling/reference/make_reference_rma.R [OUT_DIR]
##   (OUT_DIR: write the file there instead; tests/reference/regenerate.py runs every reference
##   script into a temporary folder and compares each file with the committed one, byte for byte)
## writes tests/pooling/reference/rma_reference.json.  CI never runs R: the tests
## only read the committed JSON.  Rerunning with the same R / metafor / metadat
## reproduces the file byte for byte (fixed RNG kind and seeds, no time stamps,
## every number written with sprintf("%.17g")).
##
## Grid: every rma(method=) x test= ("z", "knha") on
##   * dat.bcg   log risk ratio   escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg)
##   * dat.bcg   log odds ratio   escalc("OR", ai=tpos, bi=tneg, ci=cpos, di=cneg)
##   * dat.normand1999 mean difference escalc("MD", ...)  (stand-in: metafor/metadat
##     ship no Kacker (2004) interlaboratory data set)
##   * dat.hackshaw1998 log odds ratio (yi, vi as shipped, k = 37)
##   * 120 seeded random data sets (k = 2..30, vi spread over 4-6 orders of
##     magnitude, true tau2 = 0 in 40% of them, plus a few degenerate designs)
##   * ll0check_k4: 4 studies where REML/ML Fisher scoring stops at a local maximum
##     and metafor's ll0check sets tau2 = 0
## plus a handful of cases with a 'control' list that make metafor stop
## (non-convergence / tau2.max too low), and ll0check_k4 with ll0check=FALSE.
## Where metafor stops, the case carries an "error" field instead of values.

suppressPackageStartupMessages(library(metafor))
source(file.path("tests", "pooling", "reference", "json_writer.R"))  # versions(), reference_out()
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

out_file <- reference_out(file.path("tests", "pooling", "reference", "rma_reference.json"))

methods <- c("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")
tests <- c("z", "knha")

## ---------------------------------------------------------------- JSON helpers
num <- function(x) {
  if (is.null(x) || length(x) == 0L) return("null")
  x <- as.numeric(x)
  vapply(x, function(v) {
    if (is.na(v) && !is.nan(v)) "null"
    else if (is.nan(v)) "\"NaN\""
    else if (is.infinite(v)) if (v > 0) "\"Inf\"" else "\"-Inf\""
    else sprintf("%.17g", v)
  }, character(1))
}
str_json <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", "\\\\n", s)
  paste0("\"", s, "\"")
}
arr <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
obj <- function(keys, vals) {
  paste0("{", paste(paste0(str_json(keys), ": ", vals), collapse = ", "), "}")
}
scalar_obj <- function(lst) obj(names(lst), vapply(lst, function(v) num(v)[1], character(1)))

## ---------------------------------------------------------------- data sets
datasets <- list()
add_dataset <- function(name, yi, vi, source) {
  datasets[[name]] <<- list(yi = as.numeric(yi), vi = as.numeric(vi), source = source)
}

d <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_dataset("bcg_logRR", d$yi, d$vi,
            "escalc(\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)")
d <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_dataset("bcg_logOR", d$yi, d$vi,
            "escalc(\"OR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)")
d <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
            data = dat.normand1999)
add_dataset("normand1999_MD", d$yi, d$vi,
            "escalc(\"MD\", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)")
add_dataset("hackshaw1998_logOR", dat.hackshaw1998$yi, dat.hackshaw1998$vi,
            "dat.hackshaw1998[, c(\"yi\", \"vi\")]")

tau2_cycle <- c(0, 0.05, 0, 0.5, 5)
for (i in 1:120) {
  seed <- 20240000L + i
  set.seed(seed)
  k <- 2L + ((i - 1L) %% 29L)
  spread <- if (i %% 3L == 0L) c(-4, 2) else c(-3, 1)
  tau2 <- tau2_cycle[(i - 1L) %% 5L + 1L]
  mu <- runif(1, -1, 1)
  vi <- 10^runif(k, spread[1], spread[2])
  yi <- rnorm(k, mu, sqrt(vi + tau2))
  design <- sprintf("set.seed(%d); mu <- runif(1, -1, 1); vi <- 10^runif(%d, %g, %g); yi <- rnorm(%d, mu, sqrt(vi + %g))",
                    seed, k, spread[1], spread[2], k, tau2)
  if (i %in% c(17L, 58L, 99L)) {          # identical effect sizes
    yi <- rep(round(mu, 3), k)
    design <- paste0(design, "; yi <- rep(round(mu, 3), k)")
  }
  if (i %in% c(23L, 64L, 105L)) {         # mad(yi) = 0 plus one far outlier
    yi <- c(rep(round(mu, 3), k - 1L), 1000)
    design <- paste0(design, "; yi <- c(rep(round(mu, 3), k - 1), 1000)")
  }
  add_dataset(sprintf("random_%03d", i), yi, vi, design)
}
## Fisher scoring (REML, ML) converges to a local maximum here, below the likelihood at tau2 = 0:
## metafor's ll0check sets tau2 = 0 with a warning (control ll0check=FALSE gives 4.028 / 1.865).
add_dataset("ll0check_k4", c(2.88, -1.97, 1.26, -1.93), c(2.6626, 0.0007, 5.1219, 0.0003),
            "yi <- c(2.88, -1.97, 1.26, -1.93); vi <- c(2.6626, 0.0007, 5.1219, 0.0003)")

## ---------------------------------------------------------------- cases
case_json <- character(0)
counts <- list()
n_confint <- 0L
n_error <- 0L

fit_case <- function(dname, method, test, control = NULL, tag = NULL) {
  ds <- datasets[[dname]]
  yi <- ds$yi; vi <- ds$vi; k <- length(yi)
  ctrl_txt <- ""
  if (!is.null(control)) {
    ctrl_txt <- paste0(", control=list(",
                       paste(paste0(names(control), "=", unlist(control)), collapse = ", "), ")")
  }
  rma_call <- sprintf("res <- rma(yi, vi, method=\"%s\", test=\"%s\"%s)", method, test, ctrl_txt)
  name <- paste(c(dname, method, test, tag), collapse = "/")
  res <- tryCatch(suppressWarnings(
    if (is.null(control)) rma(yi, vi, method = method, test = test)
    else rma(yi, vi, method = method, test = test, control = control)),
    error = function(e) e)
  fields <- c(name = str_json(name), dataset = str_json(dname),
              method = str_json(method), test = str_json(test), k = num(k))
  if (!is.null(control)) fields["control"] <- scalar_obj(control)
  calls <- c(rma = str_json(rma_call))
  key <- paste0(method, "/", test)
  counts[[key]] <<- if (is.null(counts[[key]])) 1L else counts[[key]] + 1L
  if (inherits(res, "error")) {
    n_error <<- n_error + 1L
    fields["call"] <- obj(names(calls), calls)
    fields["error"] <- str_json(conditionMessage(res))
    case_json[length(case_json) + 1L] <<- obj(names(fields), fields)
    return(invisible())
  }
  rma_vals <- list(beta = c(res$beta), se = res$se, zval = res$zval, pval = res$pval,
                   ci.lb = res$ci.lb, ci.ub = res$ci.ub, tau2 = res$tau2,
                   se.tau2 = res$se.tau2, I2 = res$I2, H2 = res$H2, QE = res$QE,
                   QEp = res$QEp, k = res$k, test = NA)
  rma_vals$test <- NULL
  fields["test_used"] <- str_json(res$test)
  fields["rma"] <- scalar_obj(rma_vals)
  calls["weights"] <- str_json("weights(res)")
  fields["weights"] <- arr(weights(res))
  pr <- predict(res)
  calls["predict"] <- str_json("predict(res)")
  fields["predict"] <- scalar_obj(list(pred = pr$pred, se = pr$se, ci.lb = pr$ci.lb, ci.ub = pr$ci.ub,
                                       pi.lb = if (is.null(pr$pi.lb)) NA else pr$pi.lb,
                                       pi.ub = if (is.null(pr$pi.ub)) NA else pr$pi.ub))
  if (method != "FE" && k >= 3L) {
    pr2 <- predict(res, pi.type = "riley")
    calls["predict_riley"] <- str_json("predict(res, pi.type=\"riley\")")
    fields["predict_riley"] <- scalar_obj(list(pi.lb = pr2$pi.lb, pi.ub = pr2$pi.ub))
  }
  if (method != "FE" && k >= 2L && test == "z" && is.null(control)) {
    ci <- tryCatch(suppressWarnings(confint(res)), error = function(e) e)
    calls["confint"] <- str_json("confint(res)")
    if (inherits(ci, "error")) {
      fields["confint"] <- obj("error", str_json(conditionMessage(ci)))
    } else {
      rr <- ci$random
      fields["confint"] <- obj(
        c("tau2", "tau2.lb", "tau2.ub", "I2", "I2.lb", "I2.ub", "H2", "H2.lb", "H2.ub",
          "lb.sign", "ub.sign", "ci.null"),
        c(num(rr["tau^2", ]), num(rr["I^2(%)", ]), num(rr["H^2", ]),
          str_json(ci$lb.sign), str_json(ci$ub.sign), if (ci$ci.null) "true" else "false"))
      n_confint <<- n_confint + 1L
    }
  }
  fields["call"] <- obj(names(calls), calls)
  case_json[length(case_json) + 1L] <<- obj(names(fields), fields)
  invisible()
}

for (dname in names(datasets)) {
  for (m in methods) for (t in tests) fit_case(dname, m, t)
}
## metafor stops on these: livemeta must report converged=False instead.
for (m in c("REML", "ML", "EB")) fit_case("bcg_logRR", m, "z", control = list(maxiter = 2), tag = "maxiter2")
fit_case("bcg_logRR", "PM", "z", control = list(tau2.max = 0.01), tag = "tau2max")
## and this one converges with a tiny iteration budget (REML from HE start on normand1999)
fit_case("normand1999_MD", "REML", "z", control = list(maxiter = 50), tag = "maxiter50")
## the local maximum itself, with the check switched off
for (m in c("REML", "ML")) fit_case("ll0check_k4", m, "z", control = list(ll0check = FALSE), tag = "no_ll0check")

## ---------------------------------------------------------------- write
ds_json <- vapply(names(datasets), function(n) {
  ds <- datasets[[n]]
  obj(c("source", "k", "yi", "vi"), c(str_json(ds$source), num(length(ds$yi)), arr(ds$yi), arr(ds$vi)))
}, character(1))
count_keys <- sort(names(counts))
header <- c(
  generator = str_json("tests/pooling/reference/make_reference_rma.R"),
  vapply(versions(), str_json, character(1)),
  rng = str_json(paste(RNGkind(), collapse = "/")),
  note = str_json("Kacker (2004) interlaboratory data are not shipped with metafor/metadat; dat.normand1999 (MD) and dat.hackshaw1998 are used as additional real data sets."),
  grid = obj(c("methods", "tests", "n_datasets", "n_cases", "n_error", "n_confint", "counts"),
             c(paste0("[", paste(str_json(methods), collapse = ", "), "]"),
               paste0("[", paste(str_json(tests), collapse = ", "), "]"),
               num(length(datasets)), num(length(case_json)), num(n_error), num(n_confint),
               obj(count_keys, vapply(count_keys, function(x) num(counts[[x]]), character(1)))))
)
lines <- c("{",
           paste0("  ", str_json(names(header)), ": ", header, ","),
           "  \"datasets\": {",
           paste0("    ", str_json(names(ds_json)), ": ", ds_json, c(rep(",", length(ds_json) - 1L), "")),
           "  },",
           "  \"cases\": [",
           paste0("    ", case_json, c(rep(",", length(case_json) - 1L), "")),
           "  ]",
           "}")
con <- file(out_file, open = "wb")
writeLines(lines, con, sep = "\n")
close(con)
cat(sprintf("wrote %s: %d cases (%d errors, %d confint)\n", out_file, length(case_json), n_error, n_confint))
