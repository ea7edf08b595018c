## Reference for livemeta.pooling.glmm (the binomial-normal model for proportions) and for the exact
## (Clopper-Pearson) interval of one proportion.
##
##   Rscript tests/pooling/reference/make_reference_glmm.R     (from the repository root)
##
## Each case fits metafor 3.8's rma.glmm(measure = "PLO", xi, ni) (lme4's glmer with nAGQ = 7, ML):
## once with metafor's defaults ("default", what a metafor user sees) and once with lme4's
## optimiser run to a tight tolerance ("tight": bobyqa, rhobeg 1e-3, rhoend 1e-12, then the same
## model), so that the optimum itself is known to 1e-8 and livemeta can be held to 1e-6 against it.
## Recorded: beta, se, zval, pval, ci.lb, ci.ub, tau2, I2, H2, the likelihood-ratio test for
## heterogeneity (QE.LRT, QEp.LRT) and predict()'s pi.lb / pi.ub (logit scale).
## binom.test(x, n)$conf.int gives the exact intervals.
suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
})
source(file.path("tests", "pooling", "reference", "json_writer.R"))

cases <- list(
  # the bundled single-arm ORR analysis (revision 3): 8 cohorts, AK104-202 0/23; tau2 at its bound 0
  list(name = "bundled_single_arm_orr", xi = c(3, 11, 3, 3, 2, 5, 0, 5), ni = c(24, 68, 26, 26, 26, 59, 23, 29)),
  # metafor's example data for rma.glmm(measure = "PLO"): 14 studies, one with xi = ni
  list(name = "pritz1997", xi = dat.pritz1997$xi, ni = dat.pritz1997$ni),
  # heterogeneous, with zero cells
  list(name = "zeros_heterogeneous", xi = c(0, 2, 8, 15, 1, 30, 0), ni = c(23, 40, 35, 50, 20, 60, 15)),
  # three studies, clearly heterogeneous
  list(name = "k3", xi = c(1, 10, 4), ni = c(30, 25, 40)),
  # two studies
  list(name = "k2", xi = c(4, 12), ni = c(40, 38))
)

fit_one <- function(xi, ni, control) {
  res <- if (is.null(control)) rma.glmm(measure = "PLO", xi = xi, ni = ni) else
    rma.glmm(measure = "PLO", xi = xi, ni = ni, control = control)
  p <- predict(res)
  list(beta = res$beta[1], se = res$se, zval = res$zval, pval = res$pval, ci_lb = res$ci.lb, ci_ub = res$ci.ub,
       tau2 = res$tau2, I2 = res$I2, H2 = res$H2, QE_LRT = res$QE.LRT, QEp_LRT = res$QEp.LRT,
       pi_lb = p$pi.lb, pi_ub = p$pi.ub)
}

tight <- list(glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhobeg = 1e-3, rhoend = 1e-12, maxfun = 1e5)))

out <- lapply(cases, function(cs) {
  list(name = cs$name, xi = as_array(cs$xi), ni = as_array(cs$ni),
       default = fit_one(cs$xi, cs$ni, NULL), tight = fit_one(cs$xi, cs$ni, tight),
       call = 'rma.glmm(measure = "PLO", xi, ni); predict()')
})

exact <- list(xi = c(0, 0, 1, 5, 23, 12, 7), ni = c(23, 1, 10, 29, 23, 40, 21), level = c(0.95, 0.95, 0.95, 0.95, 0.95, 0.90, 0.80))
lo <- hi <- numeric(length(exact$xi))
for (i in seq_along(exact$xi)) {
  ci <- binom.test(exact$xi[i], exact$ni[i], conf.level = exact$level[i])$conf.int
  lo[i] <- ci[1]; hi[i] <- ci[2]
}
out[[length(out) + 1]] <- list(name = "clopper_pearson", xi = as_array(exact$xi), ni = as_array(exact$ni),
                               level = as_array(exact$level), ci_lb = as_array(lo), ci_ub = as_array(hi),
                               call = "binom.test(x, n, conf.level = level)$conf.int")

write_reference(reference_out("tests/pooling/reference/glmm_reference.json"),
                c(list(generator = "tests/pooling/reference/make_reference_glmm.R"), versions()), out)
