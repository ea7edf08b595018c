#!/usr/bin/env Rscript
## Reference values for Cohen's kappa of screening decisions (the view screening_agreement),
## computed with R's psych::cohen.kappa (unweighted kappa).
##
## Usage (from the repository root):
##   Rscript tests/screening/reference/make_kappa_reference.R [OUT_DIR]
## reads tests/screening/reference/kappa_pairs.csv (dataset, the first and the second reviewer's
## decision of each record) and writes tests/screening/reference/kappa_reference.json: per data set
## the number of pairs, the observed and the chance agreement and kappa.  CI never runs R: the tests
## read the committed JSON.  No time stamps; every number with sprintf("%.17g").

suppressPackageStartupMessages(library(psych))
source(file.path("tests", "pooling", "reference", "json_writer.R"))  # versions(), reference_out()

pairs <- read.csv(file.path("tests", "screening", "reference", "kappa_pairs.csv"), stringsAsFactors = FALSE)
levels <- c("include", "maybe", "exclude")
cases <- list()
for (ds in unique(pairs$dataset)) {
  p <- pairs[pairs$dataset == ds, ]
  x <- data.frame(first = match(p$first, levels), second = match(p$second, levels))
  k <- cohen.kappa(x)
  tab <- table(factor(x$first, levels = 1:3), factor(x$second, levels = 1:3)) / nrow(x)
  cases[[length(cases) + 1L]] <- list(
    dataset = ds, pairs = nrow(p),
    observed = sum(diag(tab)),
    expected = sum(rowSums(tab) * colSums(tab)),
    kappa = k$kappa
  )
}
header <- c(list(generator = "tests/screening/reference/make_kappa_reference.R",
                 method = "psych::cohen.kappa(x)$kappa, unweighted; categories include, maybe, exclude"),
            versions())
write_reference(reference_out(file.path("tests", "screening", "reference", "kappa_reference.json")), header, cases)
