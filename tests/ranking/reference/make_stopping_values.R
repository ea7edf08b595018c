# Worked values of the statistical stopping criterion of Callaghan and Müller-Hansen (2020),
# Systematic Reviews 9:273, doi:10.1186/s13643-020-01521-4, computed here from the paper's
# definitions with base R's phyper(), independently of livemeta's Python code
# (src/livemeta/ranking/stopping.py), into stopping_values.json (tests/ranking/test_stopping.py).
#
#   Rscript tests/ranking/reference/make_stopping_values.R [OUT_DIR]
#
# For every n = 1 .. N_seen, the last n screened records are a sample drawn from the records
# unscreened when it began (N_urn = N - N_seen + n) holding k includes, after r_AL = r_seen - k;
# H0 "recall < tau" needs at least K_tar = floor(r_seen / tau - r_AL + 1) includes among the N_urn;
# the sample's p is P(X <= k), X hypergeometric (K_tar includes among N_urn, n drawn), 0 when
# K_tar > N_urn; the criterion's p is the smallest over all n (no shortcut here: every n is
# computed). tau is given in percent so that r_seen / tau is exact integer arithmetic.
# The bound on missed includes: the smallest M whose H0 "at least M includes unscreened"
# (K = k + M) has p < alpha, minus one, scanning M = 1, 2, ...

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/ranking/reference"

k_tar <- function(r_seen, r_al, tau_pct) (r_seen * 100) %/% tau_pct - r_al + 1

p_sample <- function(k, K, N_urn, n) if (K > N_urn) 0 else phyper(k, K, N_urn - K, n)

p_h0 <- function(labels, N, tau_pct) {
  n_seen <- length(labels); r_seen <- sum(labels); best <- 1
  for (n in seq_len(n_seen)) {
    k <- sum(labels[(n_seen - n + 1):n_seen])
    best <- min(best, p_sample(k, k_tar(r_seen, r_seen - k, tau_pct), N - n_seen + n, n))
  }
  best
}

p_missed <- function(labels, N, M) {
  n_seen <- length(labels); best <- 1
  if (M > N - n_seen) return(0)
  for (n in seq_len(n_seen)) {
    k <- sum(labels[(n_seen - n + 1):n_seen])
    best <- min(best, p_sample(k, k + M, N - n_seen + n, n))
  }
  best
}

upper_missed <- function(labels, N, alpha) {
  left <- N - length(labels)
  if (left == 0) return(0)
  for (M in seq_len(left)) if (p_missed(labels, N, M) < alpha) return(M - 1)
  left
}

# label sequences in screening order: a ranking that front-loads includes, with a seeded tail
set.seed(2020)
ranked <- function(n_seen, front, p_front, p_tail) {
  c(as.integer(runif(front) < p_front), as.integer(runif(n_seen - front) < p_tail))
}
cases <- list(
  # Callaghan's explainer: 95 includes seen, then 100 excludes in a row, 1,000 records unscreened
  list(name = "explainer", labels = c(rep(1L, 95), rep(0L, 100)), N = 1195, tau = 95),
  list(name = "explainer_tau90", labels = c(rep(1L, 95), rep(0L, 100)), N = 1195, tau = 90),
  list(name = "few_excludes", labels = c(1L, 1L, 0L, 1L, 0L, 0L), N = 50, tau = 95),
  list(name = "all_screened", labels = c(1L, 0L, 1L, 0L, 0L), N = 5, tau = 95),
  list(name = "no_include", labels = rep(0L, 30), N = 300, tau = 95),
  list(name = "ranked_400_of_2000", labels = ranked(400, 150, 0.4, 0.01), N = 2000, tau = 95),
  list(name = "ranked_800_of_2000", labels = ranked(800, 150, 0.4, 0.002), N = 2000, tau = 95),
  list(name = "ranked_800_of_2000_tau80", labels = ranked(800, 150, 0.4, 0.002), N = 2000, tau = 80),
  list(name = "ranked_300_of_851", labels = ranked(300, 60, 0.3, 0.0), N = 851, tau = 95)
)

json_num <- function(x) formatC(x, digits = 17, format = "g")
lines <- c("{",
           sprintf('  "generator": "tests/ranking/reference/make_stopping_values.R",'),
           sprintf('  "R_version": "%s",', R.version.string),
           '  "alpha": 0.05,',
           '  "cases": [')
for (i in seq_along(cases)) {
  cs <- cases[[i]]
  p <- p_h0(cs$labels, cs$N, cs$tau)
  up <- upper_missed(cs$labels, cs$N, 0.05)
  lines <- c(lines, sprintf(
    '    {"name": "%s", "N": %d, "recall_target": %s, "labels": [%s], "p": %s, "includes_left_upper": %d}%s',
    cs$name, cs$N, json_num(cs$tau / 100), paste(cs$labels, collapse = ", "), json_num(p), up,
    if (i < length(cases)) "," else ""))
}
lines <- c(lines, "  ]", "}")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
writeLines(lines, file.path(out_dir, "stopping_values.json"))
