# Pool the bundled evidence base's analyses with metafor, independently of livemeta.
#
# Reads bundled_inputs.csv (the printed inputs, derived from data/studies and queries/analyses.yaml
# by derive_inputs.py, which imports no livemeta module) and writes bundled_reference.json at %.17g. Effect sizes are computed here from the printed numbers:
# log HR and its SE from the CI with qnorm at the CI level (or from the printed P where the analysis
# reads it so); log OR / log RR and logit proportions
# with escalc (metafor's default zero-cell rule: add 1/2 to studies with a zero cell); method GLMM:
# rma.glmm(measure = "PLO") of the counts (lme4), its likelihood-ratio test of heterogeneity as q.
# Subgroups (tau2 separate per subgroup, as RevMan / meta): one rma() per subgroup; the test for
# subgroup differences is Q of a fixed-effect rma() over the subgroup estimates. Analyses with
# moderators: rma(yi, vi, mods = ~ ...) on the rows with every moderator (text ones as factor()).
#
#   python tests/analysis/reference/derive_inputs.py            (from the repository root)
#   Rscript tests/analysis/reference/make_bundled_reference.R
# With a folder as the first argument of both, the CSV and the JSON are written and read there
# (tests/reference/regenerate.py does so in a temporary folder and compares them with the committed files).
suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
})
source(file.path("tests", "pooling", "reference", "json_writer.R"))  # versions(), reference_out()
here <- "tests/analysis/reference"
d <- read.csv(reference_out(file.path(here, "bundled_inputs.csv")), stringsAsFactors = FALSE, na.strings = "")

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "null" else sprintf("%.17g", x)
str_ <- function(x) paste0('"', gsub('"', '\\\\"', x), '"')

effect <- function(s) {
  m <- s$measure[1]
  if (m == "HR") {
    sei <- (log(s$ci_high) - log(s$ci_low)) / (2 * qnorm(1 - (1 - s$ci_level / 100) / 2))
    call <- "yi = log(hr); sei = (log(ci_high) - log(ci_low)) / (2 * qnorm(1 - (1 - ci_level/100)/2))"
    from_p <- !is.na(s$p_value)
    if (any(from_p)) {  # the variance read from the printed P (Parmar 1998, sec. 4.1)
      sides <- ifelse(s$p_sided == "one", 1, 2)
      sei[from_p] <- (abs(log(s$hr)) / qnorm(1 - s$p_value / sides))[from_p]
      call <- paste0(call, "; where p_value is given: sei = abs(log(hr)) / qnorm(1 - p_value / (2 if two-sided else 1))")
    }
    return(list(yi = log(s$hr), vi = sei^2, call = call))
  }
  if (m %in% c("OR", "RR")) {
    es <- escalc(measure = m, ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i)
    return(list(yi = as.numeric(es$yi), vi = as.numeric(es$vi), call = sprintf('escalc("%s", ai, n1i, ci, n2i)', m)))
  }
  es <- escalc(measure = "PLO", xi = s$xi, ni = s$ni)
  list(yi = as.numeric(es$yi), vi = as.numeric(es$vi), call = 'escalc("PLO", xi, ni)')
}

fit <- function(yi, vi, method, test, s = NULL) {
  if (method == "GLMM") {  # the binomial-normal model of the counts, lme4's optimiser run to convergence
    res <- rma.glmm(measure = "PLO", xi = s$xi, ni = s$ni,
                    control = list(glmerCtrl = list(optimizer = "bobyqa",
                                                    optCtrl = list(rhobeg = 1e-3, rhoend = 1e-12, maxfun = 1e5))))
    res$QE <- res$QE.LRT; res$QEp <- res$QEp.LRT  # q: the likelihood-ratio test of heterogeneity
    return(res)
  }
  rma(yi, vi, method = method, test = test)
}

record <- function(analysis, stratum, res, call, extra = "") {
  p <- predict(res)
  paste0("    {", paste(c(
    paste0('"analysis": ', str_(analysis)), paste0('"stratum": ', str_(stratum)),
    paste0('"k": ', res$k), paste0('"estimate": ', num(res$beta[1])), paste0('"se": ', num(res$se)),
    paste0('"ci_low": ', num(res$ci.lb)), paste0('"ci_high": ', num(res$ci.ub)),
    paste0('"pi_low": ', num(p$pi.lb)), paste0('"pi_high": ', num(p$pi.ub)),
    paste0('"p": ', num(res$pval)), paste0('"tau2": ', num(res$tau2)), paste0('"i2": ', num(res$I2)),
    paste0('"q": ', num(res$QE)), paste0('"q_p": ', num(res$QEp)), paste0('"call": ', str_(call))), collapse = ", "),
    extra, "}")
}

out <- character(0)
for (a in unique(d$analysis)) {
  s <- d[d$analysis == a, ]
  es <- effect(s)
  method <- s$method[1]; test <- s$test[1]
  call <- if (method == "GLMM") 'rma.glmm(measure = "PLO", xi, ni), bobyqa to rhoend 1e-12; q = QE.LRT' else
    sprintf('%s; rma(yi, vi, method = "%s", test = "%s")', es$call, method, test)
  overall <- fit(es$yi, es$vi, method, test, s)
  extra <- ""
  groups <- s$subgroup
  has_groups <- !all(is.na(groups)) && length(unique(groups)) >= 2
  sub <- character(0)
  if (has_groups) {
    b <- c(); se <- c()
    for (g in sort(unique(groups))) {
      i <- which(groups == g)
      r <- fit(es$yi[i], es$vi[i], method, test)
      b <- c(b, r$beta[1]); se <- c(se, r$se)
      sub <- c(sub, record(a, g, r, paste0(call, ' within subgroup ', g)))
    }
    between <- rma(b, sei = se, method = "FE")
    extra <- paste0(', "q_between": ', num(between$QE), ', "df_between": ', length(b) - 1,
                    ', "p_between": ', num(between$QEp),
                    ', "between_call": "rma(subgroup estimates, sei = subgroup SEs, method = \\"FE\\")$QE"')
  }
  if (!all(is.na(s$moderators))) {  # meta-regression on the rows with every moderator
    kinds <- strsplit(s$moderators[1], "+", fixed = TRUE)[[1]]
    vals <- do.call(rbind, strsplit(paste0(ifelse(is.na(s$moderator_values), "", s$moderator_values), ";"), ";", fixed = TRUE))
    mods <- data.frame(row.names = seq_len(nrow(s)))
    for (j in seq_along(kinds)) {
      nk <- strsplit(kinds[j], ":", fixed = TRUE)[[1]]
      v <- ifelse(vals[, j] == "", NA, vals[, j])
      mods[[nk[1]]] <- if (nk[2] == "num") as.numeric(v) else factor(v)
    }
    ok <- complete.cases(mods)
    f <- as.formula(paste("~", paste(names(mods), collapse = " + ")))
    X <- model.matrix(f, data = droplevels(mods[ok, , drop = FALSE]))
    if (sum(ok) < ncol(X) + (method != "FE")) {  # more parameters than studies: no model (livemeta says so too)
      extra <- paste0(extra, ', "metareg": null')
      out <- c(out, record(a, "overall", overall, call, extra), sub)
      next
    }
    reg <- rma(es$yi[ok], es$vi[ok], mods = f, data = mods[ok, , drop = FALSE], method = method, test = test)
    arr <- function(x) paste0("[", paste(vapply(as.numeric(x), num, ""), collapse = ", "), "]")
    extra <- paste0(extra, ', "metareg": {"k": ', reg$k, ', "beta": ', arr(reg$beta), ', "se": ', arr(reg$se),
                    ', "pval": ', arr(reg$pval), ', "ci_low": ', arr(reg$ci.lb), ', "ci_high": ', arr(reg$ci.ub),
                    ', "QM": ', num(reg$QM), ', "QMp": ', num(reg$QMp), ', "QE": ', num(reg$QE),
                    ', "tau2": ', num(reg$tau2), ', "R2": ', num(if (is.null(reg$R2)) NA else reg$R2),
                    ', "call": ', str_(sprintf('rma(yi, vi, mods = %s, method = "%s", test = "%s") on the %d rows with every moderator',
                                               paste(deparse(f), collapse = ""), method, test, sum(ok))), "}")
  }
  out <- c(out, record(a, "overall", overall, call, extra), sub)
}

json <- paste0("{\n",
  '  "generator": "tests/analysis/reference/make_bundled_reference.R",\n',
  paste0("  ", str_(names(versions())), ": ", vapply(versions(), str_, ""), ",\n", collapse = ""),
  '  "results": [\n', paste(out, collapse = ",\n"), "\n  ]\n}\n")
writeLines(json, reference_out(file.path(here, "bundled_reference.json")), sep = "")
