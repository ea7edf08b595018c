#!/usr/bin/env Rscript
## Reference values for livemeta.pooling.influence and the leave-one-out /
## cumulative analyses of Mantel-Haenszel and Peto models, from R metafor.
##
## Usage (from the repository root):
##   Rscript tests/pooling/reference/make_reference_influence.R [OUT_DIR]
##   (OUT_DIR: write the file there instead; tests/reference/regenerate.py runs every reference
##   script into a temporary folder and compares each file with the committed one, byte for byte)
## writes tests/pooling/reference/influence_reference.json (read by
## tests/pooling/test_influence_reference.py; CI never runs R).  Byte-for-byte
## reproducible with the same R / metafor / metadat (fixed seeds, no time stamps).
##
## Grid:
##   * influence(rma(yi, vi, method, test)) and baujat(rma(...)) for method in FE, DL, REML, ML, PM,
##     EB, SJ, HE, HS and test in z, knha on dat.bcg (log RR, log OR),
##     dat.normand1999 (MD), dat.hackshaw1998 (log OR, k = 37) and 24 seeded
##     random data sets (k = 3..30, true tau2 0 to 0.5), plus the moderator models
##     dat.bcg ~ ablat and ~ ablat + year
##   * leave1out() and cumul() of rma.mh(measure = "OR", "RR", "RD") and of
##     rma.peto() on dat.bcg, dat.nielweise2007 (zero cells), dat.yusuf1985
##     (table 6) and dat.lee2004; cumul ordered by year (ties: input order)

suppressPackageStartupMessages(library(metafor))
source(file.path("tests", "pooling", "reference", "json_writer.R"))
pdf(NULL)  # baujat() draws; nothing is kept
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

out_file <- reference_out(file.path("tests", "pooling", "reference", "influence_reference.json"))
methods <- c("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")
tests <- c("z", "knha")

## ------------------------------------------------------------ yi / vi data sets
datasets <- list()
add_dataset <- function(name, yi, vi, source, mods = NULL) {
  datasets[[name]] <<- list(yi = as_array(as.numeric(yi)), vi = as_array(as.numeric(vi)),
                            source = source, mods = mods)
}
d <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_dataset("bcg_logRR", d$yi, d$vi, "escalc(\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)",
            mods = list(ablat = as_array(d$ablat), year = as_array(d$year)))
d <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_dataset("bcg_logOR", d$yi, d$vi, "escalc(\"OR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)")
d <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
add_dataset("normand1999_MD", d$yi, d$vi, "escalc(\"MD\", ..., data=dat.normand1999)")
add_dataset("hackshaw1998_logOR", dat.hackshaw1998$yi, dat.hackshaw1998$vi, "dat.hackshaw1998")
tau2_cycle <- c(0, 0.05, 0.2, 0.5)
for (i in 1:24) {
  seed <- 20260000L + i
  set.seed(seed)
  k <- 3L + ((i * 7L) %% 28L)
  tau2 <- tau2_cycle[(i - 1L) %% 4L + 1L]
  vi <- 10^runif(k, -2.5, -0.3)
  yi <- rnorm(k, runif(1, -1, 1), sqrt(vi + tau2))
  add_dataset(sprintf("random_%02d", i), yi, vi,
              sprintf("set.seed(%d); k = %d; vi <- 10^runif(k, -2.5, -0.3); yi <- rnorm(k, runif(1, -1, 1), sqrt(vi + %g))",
                      seed, k, tau2))
}

cases <- list()
infl_case <- function(dname, method, test, mods = NULL) {
  ds <- datasets[[dname]]
  yi <- ds$yi; vi <- ds$vi
  args <- list(yi = as.numeric(yi), vi = as.numeric(vi), method = method, test = test)
  mtxt <- ""
  if (!is.null(mods)) {
    args$mods <- do.call(cbind, lapply(ds$mods[mods], as.numeric))
    mtxt <- paste0(", mods = ~ ", paste(mods, collapse = " + "))
  }
  case <- list(id = paste(c("influence", dname, method, test, if (!is.null(mods)) paste(mods, collapse = "+")), collapse = "/"),
               kind = "influence", dataset = dname, method = method, test = test,
               mods = if (is.null(mods)) NULL else as_array(mods),
               call = sprintf("influence(rma(yi, vi%s, method = \"%s\", test = \"%s\"))", mtxt, method, test))
  res <- tryCatch(suppressWarnings(do.call(rma, args)), error = function(e) e)
  if (inherits(res, "error")) {
    case$error <- conditionMessage(res)
  } else {
    inf <- suppressWarnings(influence(res))
    case$values <- list(
      rstudent = as_array(inf$inf$rstudent), dffits = as_array(inf$inf$dffits),
      cook.d = as_array(inf$inf$cook.d), cov.r = as_array(inf$inf$cov.r),
      tau2.del = as_array(inf$inf$tau2.del), QE.del = as_array(inf$inf$QE.del),
      hat = as_array(inf$inf$hat), weight = as_array(inf$inf$weight),
      dfbs = unname(do.call(cbind, unclass(inf$dfbs)[seq_len(res$p)])),
      inf = as_array(inf$inf$inf), tau2 = inf$tau2, QE = inf$QE)
    bj <- baujat(res)  # draws on the null device; returns the coordinates
    case$values$baujat_x <- as_array(bj$x)
    case$values$baujat_y <- as_array(bj$y)
  }
  cases[[length(cases) + 1L]] <<- case
}
for (dn in names(datasets)) for (m in methods) for (t in tests) infl_case(dn, m, t)
for (m in methods) for (t in tests) {
  infl_case("bcg_logRR", m, t, mods = "ablat")
  infl_case("bcg_logRR", m, t, mods = c("ablat", "year"))
}

## ------------------------------------------------------------ 2x2 tables
tables <- list()
add_tables <- function(name, ai, bi, ci, di, year, source) {
  ok <- complete.cases(ai, bi, ci, di)  # tables with missing counts are left out
  ai <- ai[ok]; bi <- bi[ok]; ci <- ci[ok]; di <- di[ok]; year <- year[ok]
  tables[[name]] <<- list(ai = as_array(as.numeric(ai)), bi = as_array(as.numeric(bi)),
                          ci = as_array(as.numeric(ci)), di = as_array(as.numeric(di)),
                          year = as_array(as.numeric(year)), source = source)
}
add_tables("bcg", dat.bcg$tpos, dat.bcg$tneg, dat.bcg$cpos, dat.bcg$cneg, dat.bcg$year, "dat.bcg")
with(dat.nielweise2007, add_tables("nielweise2007", ai, n1i - ai, ci, n2i - ci, year, "dat.nielweise2007"))
y6 <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
with(y6, add_tables("yusuf1985_t6", ai, n1i - ai, ci, n2i - ci, seq_along(ai), "dat.yusuf1985[table == 6, ] without its table with missing counts (order: row)"))
with(dat.lee2004, add_tables("lee2004", ai, n1i - ai, ci, n2i - ci, year, "dat.lee2004"))

list_values <- function(x) {
  list(estimate = as_array(x$estimate), se = as_array(x$se), zval = as_array(x$zval),
       pval = as_array(x$pval), ci.lb = as_array(x$ci.lb), ci.ub = as_array(x$ci.ub),
       Q = as_array(x$Q), Qp = as_array(x$Qp), I2 = as_array(x$I2), H2 = as_array(x$H2))
}
tab_case <- function(tname, model, measure) {
  tb <- tables[[tname]]
  ai <- as.numeric(tb$ai); bi <- as.numeric(tb$bi); ci <- as.numeric(tb$ci); di <- as.numeric(tb$di)
  yr <- as.numeric(tb$year)
  res <- if (model == "MH") rma.mh(ai = ai, bi = bi, ci = ci, di = di, measure = measure)
         else rma.peto(ai = ai, bi = bi, ci = ci, di = di)
  fit_txt <- if (model == "MH") sprintf("rma.mh(ai, bi, ci, di, measure = \"%s\")", measure)
             else "rma.peto(ai, bi, ci, di)"
  l1 <- suppressWarnings(leave1out(res))
  cu <- suppressWarnings(cumul(res, order = yr))
  base <- list(tables = tname, model = model, measure = measure)
  cases[[length(cases) + 1L]] <<- c(list(id = paste("leave1out", tname, model, measure, sep = "/"),
                                         kind = "leave1out"), base,
                                    list(call = sprintf("leave1out(%s)", fit_txt), values = list_values(l1)))
  cases[[length(cases) + 1L]] <<- c(list(id = paste("cumul", tname, model, measure, sep = "/"),
                                         kind = "cumul"), base,
                                    list(call = sprintf("cumul(%s, order = year)", fit_txt),
                                         values = c(list(order = as_array(order(yr) - 1L)), list_values(cu))))
}
for (tn in names(tables)) {
  for (ms in c("OR", "RR", "RD")) tab_case(tn, "MH", ms)
  tab_case(tn, "PETO", "PETO")
}

kinds <- table(vapply(cases, function(cs) cs$kind, character(1)))
header <- c(list(generator = "tests/pooling/reference/make_reference_influence.R"),
            versions(),
            list(rng = paste(RNGkind(), collapse = "/"),
                 grid = list(methods = as_array(methods), tests = as_array(tests),
                             n_cases = length(cases),
                             counts = setNames(as.list(as.integer(kinds)), names(kinds))),
                 datasets = datasets, tables = tables))
write_reference(out_file, header, cases)
