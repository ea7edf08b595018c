# Reference values for livemeta.pooling: effect sizes, 2x2 pooling (MH, Peto),
# subgroups, leave-one-out, cumulative, Egger / regtest and trim-and-fill.
#
# Run from the repository root:
#   Rscript tests/pooling/reference/make_reference_methods.R [OUT_DIR]
#   (OUT_DIR: write the file there instead; tests/reference/regenerate.py runs every reference
#   script into a temporary folder and compares each file with the committed one, byte for byte)
# It writes tests/pooling/reference/methods_reference.json.  Every number is
# printed with sprintf("%.17g"); rerunning reproduces the file byte for byte
# (no timestamps, fixed ordering).  Each case keeps the exact R call that
# produced its values in "call" (evaluated with eval(parse(text = call))).
# All data come from metafor's bundled data sets (package metadat).

suppressPackageStartupMessages(library(metafor))
source(file.path("tests", "pooling", "reference", "json_writer.R"))  # versions(), reference_out()

out_file <- reference_out(file.path("tests", "pooling", "reference", "methods_reference.json"))

# ---------------------------------------------------------------- JSON writer
num <- function(x) {
  if (is.na(x)) return("null")
  if (is.infinite(x)) stop("infinite value in reference output")
  sprintf("%.17g", x)
}
str_json <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", "\\\\n", s)
  paste0("\"", s, "\"")
}
arr <- function(x) structure(list(x = x), class = "jarr")  # always a JSON array
to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent + 1)
  pad0 <- strrep("  ", indent)
  if (inherits(x, "jarr")) {
    v <- x$x
    if (is.factor(v)) v <- as.character(v)
    items <- vapply(seq_along(v), function(i) scalar(v[i]), "")
    return(paste0("[", paste(items, collapse = ", "), "]"))
  }
  if (is.list(x)) {
    nm <- names(x)
    if (is.null(nm)) {
      if (length(x) == 0) return("[]")
      items <- vapply(x, to_json, "", indent = indent + 1)
      return(paste0("[\n", paste0(pad, items, collapse = ",\n"), "\n", pad0, "]"))
    }
    if (length(x) == 0) return("{}")
    items <- vapply(seq_along(x), function(i)
      paste0(str_json(nm[i]), ": ", to_json(x[[i]], indent + 1)), "")
    return(paste0("{\n", paste0(pad, items, collapse = ",\n"), "\n", pad0, "}"))
  }
  if (is.factor(x)) x <- as.character(x)
  if (length(x) != 1) return(to_json(arr(x), indent))
  scalar(x)
}
scalar <- function(v) {
  if (is.logical(v)) return(if (is.na(v)) "null" else if (v) "true" else "false")
  if (is.character(v)) return(if (is.na(v)) "null" else str_json(v))
  num(as.numeric(v))
}

# ---------------------------------------------------------------- helpers
cases <- list()
add_case <- function(id, group, call, values) {
  stopifnot(!id %in% vapply(cases, function(z) z$id, ""))
  cases[[length(cases) + 1]] <<- list(id = id, group = group, call = call, values = values)
}
run <- function(call) eval(parse(text = call), envir = globalenv())

rma_vals <- function(r) {
  list(k = r$k, estimate = c(r$beta)[1], se = r$se[1], zval = r$zval[1], pval = r$pval[1],
       ci_lb = r$ci.lb[1], ci_ub = r$ci.ub[1], tau2 = r$tau2, QE = r$QE, QEp = r$QEp,
       I2 = r$I2, H2 = r$H2)
}
list_vals <- function(x) {
  # leave1out / cumul output (a list.rma object)
  # (the statistic is stored as 'tval' for test = "knha"; tau2 is absent for FE fits)
  stat <- if (!is.null(x$zval)) x$zval else x$tval
  tau2 <- if (!is.null(x$tau2)) x$tau2 else rep(0, length(x$estimate))
  v <- list(estimate = arr(x$estimate), se = arr(x$se), zval = arr(stat), pval = arr(x$pval),
            ci_lb = arr(x$ci.lb), ci_ub = arr(x$ci.ub), QE = arr(x$Q), QEp = arr(x$Qp),
            tau2 = arr(tau2), I2 = arr(x$I2), H2 = arr(x$H2))
  stopifnot(all(vapply(v, function(a) length(a$x) == length(x$estimate), TRUE)))
  v
}

# ---------------------------------------------------------------- data
bcg <- dat.bcg
niel <- dat.nielweise2007
egger <- dat.egger2001
pritz <- dat.pritz1997
bcg_rr <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
egger_or <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = egger)

data_out <- list(
  dat.bcg = list(trial = arr(bcg$trial), author = arr(bcg$author), year = arr(bcg$year),
                 tpos = arr(bcg$tpos), tneg = arr(bcg$tneg), cpos = arr(bcg$cpos),
                 cneg = arr(bcg$cneg), ablat = arr(bcg$ablat), alloc = arr(bcg$alloc)),
  dat.nielweise2007 = list(study = arr(niel$study), author = arr(niel$author),
                           year = arr(niel$year), ai = arr(niel$ai), n1i = arr(niel$n1i),
                           ci = arr(niel$ci), n2i = arr(niel$n2i)),
  dat.egger2001 = list(id = arr(egger$id), study = arr(egger$study), year = arr(egger$year),
                       ai = arr(egger$ai), n1i = arr(egger$n1i), ci = arr(egger$ci),
                       n2i = arr(egger$n2i)),
  dat.pritz1997 = list(study = arr(pritz$study), authors = arr(pritz$authors),
                       xi = arr(pritz$xi), ni = arr(pritz$ni))
)

# ---------------------------------------------------------------- escalc
for (m in c("OR", "RR", "RD")) {
  call <- sprintf('escalc(measure = "%s", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)', m)
  e <- run(call)
  add_case(paste0("escalc_bcg_", m), "escalc", call,
           list(dataset = "dat.bcg", measure = m, add = 0.5, to = "only0", drop00 = FALSE,
                yi = arr(c(e$yi)), vi = arr(c(e$vi))))
}
niel_opts <- list(
  default = list(args = "", add = 0.5, to = "only0", drop00 = FALSE),
  all = list(args = ', to = "all"', add = 0.5, to = "all", drop00 = FALSE),
  drop00 = list(args = ", drop00 = TRUE", add = 0.5, to = "only0", drop00 = TRUE),
  if0all = list(args = ', add = 0.25, to = "if0all"', add = 0.25, to = "if0all", drop00 = FALSE)
)
for (m in c("OR", "RR", "RD")) for (o in names(niel_opts)) {
  op <- niel_opts[[o]]
  call <- sprintf('escalc(measure = "%s", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.nielweise2007%s)', m, op$args)
  e <- run(call)
  add_case(paste0("escalc_nielweise_", m, "_", o), "escalc", call,
           list(dataset = "dat.nielweise2007", measure = m, add = op$add, to = op$to,
                drop00 = op$drop00, yi = arr(c(e$yi)), vi = arr(c(e$vi))))
}
call <- 'escalc(measure = "RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg, vtype = "UB")'
e <- run(call)
add_case("escalc_bcg_RD_UB", "escalc", call,
         list(dataset = "dat.bcg", measure = "RD", vtype = "UB", add = 0.5, to = "only0",
              drop00 = FALSE, yi = arr(c(e$yi)), vi = arr(c(e$vi))))

# ---------------------------------------------------------------- proportions
for (m in c("PLO", "PFT")) {
  call <- sprintf('escalc(measure = "%s", xi = xi, ni = ni, data = dat.pritz1997)', m)
  e <- run(call)
  add_case(paste0("escalc_pritz_", m), "proportions", call,
           list(dataset = "dat.pritz1997", measure = m, yi = arr(c(e$yi)), vi = arr(c(e$vi))))
}
call <- 'predict(rma(yi, vi, data = escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997), method = "REML"), transf = transf.ilogit)'
p <- run(call)
add_case("pritz_PLO_REML_ilogit", "proportions", call,
         list(dataset = "dat.pritz1997", measure = "PLO", method = "REML",
              pred = p$pred, ci_lb = p$ci.lb, ci_ub = p$ci.ub))
call <- 'predict(rma(yi, vi, data = escalc(measure = "PFT", xi = xi, ni = ni, data = dat.pritz1997), method = "REML"), transf = transf.ipft.hm, targs = list(ni = dat.pritz1997$ni))'
p <- run(call)
r <- rma(yi, vi, data = escalc(measure = "PFT", xi = xi, ni = ni, data = dat.pritz1997), method = "REML")
add_case("pritz_PFT_REML_ipft_hm", "proportions", call,
         list(dataset = "dat.pritz1997", measure = "PFT", method = "REML",
              estimate = c(r$beta), ci_lb_raw = r$ci.lb, ci_ub_raw = r$ci.ub,
              pred = p$pred, ci_lb = p$ci.lb, ci_ub = p$ci.ub))
call <- 'with(escalc(measure = "PFT", xi = xi, ni = ni, data = dat.pritz1997), transf.ipft(yi, ni))'
add_case("pritz_PFT_ipft_studies", "proportions", call,
         list(dataset = "dat.pritz1997", values = arr(run(call))))
call <- 'transf.ilogit(c(-3, -0.5, 0, 0.25, 2, 5))'
add_case("transf_ilogit_grid", "proportions", call,
         list(x = arr(c(-3, -0.5, 0, 0.25, 2, 5)), values = arr(run(call))))

# ---------------------------------------------------------------- Mantel-Haenszel and Peto
mh_vals <- function(r) {
  list(k = r$k, k_yi = r$k.yi, estimate = c(r$beta), se = r$se, zval = r$zval, pval = r$pval,
       ci_lb = r$ci.lb, ci_ub = r$ci.ub, QE = r$QE, QEp = r$QEp, I2 = r$I2, H2 = r$H2,
       CO = r$CO, COp = r$COp, MH = r$MH, MHp = r$MHp, BD = r$BD, BDp = r$BDp,
       TA = r$TA, TAp = r$TAp)
}
mh_grid <- list(
  list(id = "mh_bcg_OR", ds = "dat.bcg", measure = "OR", correct = TRUE,
       call = 'rma.mh(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)'),
  list(id = "mh_bcg_OR_nocorrect", ds = "dat.bcg", measure = "OR", correct = FALSE,
       call = 'rma.mh(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg, correct = FALSE)'),
  list(id = "mh_bcg_RR", ds = "dat.bcg", measure = "RR", correct = TRUE,
       call = 'rma.mh(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)'),
  list(id = "mh_bcg_RD", ds = "dat.bcg", measure = "RD", correct = TRUE,
       call = 'rma.mh(measure = "RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)'),
  list(id = "mh_bcg_OR_level90", ds = "dat.bcg", measure = "OR", correct = TRUE, level = 0.9,
       call = 'rma.mh(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg, level = 90)'),
  list(id = "mh_nielweise_OR", ds = "dat.nielweise2007", measure = "OR", correct = TRUE,
       call = 'rma.mh(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.nielweise2007)'),
  list(id = "mh_nielweise_RR", ds = "dat.nielweise2007", measure = "RR", correct = TRUE,
       call = 'rma.mh(measure = "RR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.nielweise2007)'),
  list(id = "mh_nielweise_RD", ds = "dat.nielweise2007", measure = "RD", correct = TRUE,
       call = 'rma.mh(measure = "RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.nielweise2007)'),
  list(id = "mh_nielweise_OR_keep00", ds = "dat.nielweise2007", measure = "OR", correct = TRUE,
       drop00 = FALSE,
       call = 'rma.mh(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.nielweise2007, drop00 = FALSE)')
)
for (g in mh_grid) {
  r <- suppressWarnings(run(g$call))
  v <- c(list(dataset = g$ds, measure = g$measure, correct = g$correct,
              level = if (is.null(g$level)) 0.95 else g$level,
              drop00 = if (is.null(g$drop00)) TRUE else g$drop00), mh_vals(r))
  add_case(g$id, "mh", g$call, v)
}
peto_grid <- list(
  list(id = "peto_bcg", ds = "dat.bcg",
       call = 'rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)'),
  list(id = "peto_nielweise", ds = "dat.nielweise2007",
       call = 'rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.nielweise2007)'),
  list(id = "peto_egger2001", ds = "dat.egger2001",
       call = 'rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)')
)
for (g in peto_grid) {
  r <- suppressWarnings(run(g$call))
  add_case(g$id, "peto", g$call,
           list(dataset = g$ds, k = r$k, k_yi = r$k.yi, estimate = c(r$beta), se = r$se,
                zval = r$zval, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub, QE = r$QE,
                QEp = r$QEp, I2 = r$I2, H2 = r$H2))
}

# ---------------------------------------------------------------- subgroups (dat.bcg, log RR, by alloc)
groups <- sort(unique(as.character(bcg$alloc)))   # factor level order used by metafor
for (m in c("FE", "DL", "REML", "ML")) {
  per <- list()
  est <- se <- numeric(0)
  for (g in groups) {
    call <- sprintf('rma(yi, vi, data = bcg_rr, subset = alloc == "%s", method = "%s")', g, m)
    r <- run(call)
    per[[g]] <- c(list(call = call), rma_vals(r))
    est <- c(est, c(r$beta)); se <- c(se, r$se)
  }
  qcall <- sprintf('rma(yi = c(%s), sei = c(%s), method = "FE")',
                   paste(sprintf("%.17g", est), collapse = ", "),
                   paste(sprintf("%.17g", se), collapse = ", "))
  qb <- run(qcall)
  add_case(paste0("subgroups_separate_", m), "subgroups",
           sprintf('lapply(levels(factor(alloc)), function(g) rma(yi, vi, data = bcg_rr, subset = alloc == g, method = "%s"))', m),
           list(dataset = "dat.bcg", measure = "RR", by = "alloc", tau2 = "separate", method = m,
                test = "z", groups = arr(groups), per_group = per,
                Q_between_call = qcall, Q_between = qb$QE, Q_between_df = qb$k - 1,
                Q_between_p = qb$QEp))
}
for (spec in list(c("FE", "z"), c("DL", "z"), c("REML", "z"), c("ML", "z"), c("REML", "knha"))) {
  m <- spec[1]; tst <- spec[2]
  c1 <- sprintf('rma(yi, vi, mods = ~ factor(alloc), data = bcg_rr, method = "%s", test = "%s")', m, tst)
  c2 <- sprintf('rma(yi, vi, mods = ~ factor(alloc) - 1, data = bcg_rr, method = "%s", test = "%s")', m, tst)
  r1 <- run(c1); r2 <- run(c2)
  add_case(paste0("subgroups_common_", m, "_", tst), "subgroups", c1,
           list(dataset = "dat.bcg", measure = "RR", by = "alloc", tau2 = "common", method = m,
                test = tst, groups = arr(groups),
                QM = r1$QM, QMdf = arr(r1$QMdf), QMp = r1$QMp, tau2_value = r1$tau2,
                QE = r1$QE, QEp = r1$QEp, I2 = r1$I2, H2 = r1$H2,
                cell_means_call = c2, estimate = arr(c(r2$beta)), se = arr(r2$se),
                zval = arr(r2$zval), pval = arr(r2$pval), ci_lb = arr(r2$ci.lb),
                ci_ub = arr(r2$ci.ub), cell_tau2 = r2$tau2))
}

# ---------------------------------------------------------------- leave-one-out and cumulative
for (spec in list(c("REML", "z"), c("FE", "z"), c("DL", "z"), c("REML", "knha"))) {
  m <- spec[1]; tst <- spec[2]
  call <- sprintf('leave1out(rma(yi, vi, data = bcg_rr, method = "%s", test = "%s"))', m, tst)
  add_case(sprintf("leave1out_bcg_%s_%s", m, tst), "leave1out", call,
           c(list(dataset = "dat.bcg", measure = "RR", method = m, test = tst), list_vals(run(call))))
}
for (spec in list(c("REML", "z"), c("FE", "z"), c("DL", "z"), c("REML", "knha"))) {
  m <- spec[1]; tst <- spec[2]
  call <- sprintf('cumul(rma(yi, vi, data = bcg_rr, method = "%s", test = "%s"), order = year)', m, tst)
  x <- suppressWarnings(run(call))
  add_case(sprintf("cumul_bcg_year_%s_%s", m, tst), "cumul", call,
           c(list(dataset = "dat.bcg", measure = "RR", method = m, test = tst, order_by = "year",
                  order_ids = arr(as.numeric(x$slab))), list_vals(x)))
}

# ---------------------------------------------------------------- Egger / regtest (dat.egger2001, log OR)
call <- 'regtest(yi, vi, data = egger_or, model = "lm")'
r <- run(call)
add_case("regtest_egger2001_lm", "egger", call,
         list(dataset = "dat.egger2001", measure = "OR", model = "lm", zval = r$zval,
              pval = r$pval, dfs = r$dfs, est = r$est, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
              slope = coef(r$fit)[2], slope_se = sqrt(diag(vcov(r$fit)))[2],
              sigma = summary(r$fit)$sigma))
for (m in c("FE", "REML", "DL")) {
  call <- sprintf('regtest(rma(yi, vi, data = egger_or, method = "%s"))', m)
  r <- run(call)
  add_case(paste0("regtest_egger2001_rma_", m), "egger", call,
           list(dataset = "dat.egger2001", measure = "OR", model = "rma", method = m,
                zval = r$zval, pval = r$pval, est = r$est, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
                slope = c(r$fit$beta)[2], slope_se = r$fit$se[2], tau2 = r$fit$tau2))
}
call <- 'regtest(rma(yi, vi, data = egger_or, method = "REML", test = "knha"))'
r <- run(call)
add_case("regtest_egger2001_rma_REML_knha", "egger", call,
         list(dataset = "dat.egger2001", measure = "OR", model = "rma", method = "REML",
              test = "knha", zval = r$zval, pval = r$pval, dfs = r$dfs, est = r$est,
              ci_lb = r$ci.lb, ci_ub = r$ci.ub, tau2 = r$fit$tau2))
call <- 'regtest(yi, vi, data = bcg_rr, model = "lm")'
r <- run(call)
add_case("regtest_bcg_lm", "egger", call,
         list(dataset = "dat.bcg", measure = "RR", model = "lm", zval = r$zval, pval = r$pval,
              dfs = r$dfs, est = r$est, ci_lb = r$ci.lb, ci_ub = r$ci.ub))

# ---------------------------------------------------------------- trim-and-fill
tf_grid <- list(
  list(id = "trimfill_bcg_FE", ds = "bcg_rr", m = "FE", extra = ""),
  list(id = "trimfill_bcg_REML", ds = "bcg_rr", m = "REML", extra = ""),
  list(id = "trimfill_bcg_FE_R0", ds = "bcg_rr", m = "FE", extra = ', estimator = "R0"'),
  list(id = "trimfill_bcg_REML_right", ds = "bcg_rr", m = "REML", extra = ', side = "right"'),
  list(id = "trimfill_egger2001_FE", ds = "egger_or", m = "FE", extra = ""),
  list(id = "trimfill_egger2001_REML", ds = "egger_or", m = "REML", extra = "")
)
for (g in tf_grid) {
  call <- sprintf('trimfill(rma(yi, vi, data = %s, method = "%s")%s)', g$ds, g$m, g$extra)
  r <- run(call)
  add_case(g$id, "trimfill", call,
           c(list(dataset = if (g$ds == "bcg_rr") "dat.bcg" else "dat.egger2001",
                  measure = if (g$ds == "bcg_rr") "RR" else "OR", method = g$m,
                  estimator = r$k0.est, side = r$side, k0 = r$k0, se_k0 = r$se.k0,
                  p_k0 = r$p.k0, yi = arr(c(r$yi)), vi = arr(c(r$vi)), fill = arr(r$fill)),
             rma_vals(r)))
}

# ---------------------------------------------------------------- write
counts <- table(vapply(cases, function(z) z$group, ""))
res <- c(list(generator = "tests/pooling/reference/make_reference_methods.R"), versions(), list(
  n_cases = length(cases),
  group_counts = as.list(setNames(as.numeric(counts), names(counts))),
  data = data_out,
  cases = cases
))
con <- file(out_file, open = "wb")
writeLines(to_json(res), con, sep = "\n")
close(con)
cat("wrote", out_file, "with", length(cases), "cases\n")
