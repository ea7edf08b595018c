#!/usr/bin/env Rscript
## Reference values for livemeta.pooling.sequential (group sequential boundaries)
## from R rpact (getDesignGroupSequential, getDesignCharacteristics).
##
## Usage (from the repository root):
##   Rscript tests/pooling/reference/make_reference_sequential.R [OUT_DIR]
##   (OUT_DIR: write the file there instead; tests/reference/regenerate.py runs every reference
##   script into a temporary folder and compares each file with the committed one, byte for byte)
## writes tests/pooling/reference/sequential_reference.json (read by
## tests/pooling/test_sequential_reference.py; CI never runs R).  No randomness,
## no time stamps: the same R / rpact reproduce the file byte for byte.
##
## Grid:
##   * alpha spending only: typeOfDesign asOF, asP x (sided = 1, alpha 0.025,
##     0.05, 0.01) and (sided = 2, alpha 0.05, 0.01) x information rates
##     {.3,.6,1}, {.5,1}, {.25,.5,.75,1}, {.1,.35,.4,.9,1}, {.1,...,1} (10 looks),
##     {.2,.21,.5,1}, {.15,.5,.8,1}, {.6,.9,1}, 10 looks from .25 to 1; a design is left out when its
##     first critical value would exceed 7 (rpact searches critical values below
##     8 only) or when rpact returns a critical value at that limit; the header
##     lists the designs left out
##   * beta spending (sided = 1): typeBetaSpending bsOF, bsP x typeOfDesign asOF,
##     asP x beta 0.2, 0.1 x bindingFutility FALSE, TRUE x alpha 0.025 (and 0.05
##     for the non-binding bsOF designs) x the first five information sets and
##     the 10 looks from .25
## Values: criticalValues, futilityBounds, alphaSpent, stageLevels, betaSpent,
## power, and getDesignCharacteristics()$shift / $inflationFactor (one-sided).

suppressPackageStartupMessages(library(rpact))
source(file.path("tests", "pooling", "reference", "json_writer.R"))

out_file <- reference_out(file.path("tests", "pooling", "reference", "sequential_reference.json"))
rate_sets <- list(
  three = c(.3, .6, 1), two = c(.5, 1), equal4 = c(.25, .5, .75, 1),
  unequal5 = c(.1, .35, .4, .9, 1), ten = seq(.1, 1, by = .1), close = c(.2, .21, .5, 1),
  late = c(.15, .5, .8, 1), late3 = c(.6, .9, 1), many = seq(.25, 1, length.out = 10))

cases <- list()
skipped <- list()
first_crit <- function(type, alpha, sided, t1) {
  if (type == "asOF") return(qnorm(1 - alpha / (2 * sided)) / sqrt(t1))
  qnorm(1 - alpha * log(1 + (exp(1) - 1) * t1) / sided)
}

design_case <- function(set, type, alpha, sided, beta = 0.2, bs = "none", binding = FALSE) {
  rates <- rate_sets[[set]]
  id <- paste(c(type, sprintf("sided%d", sided), sprintf("alpha%g", alpha), set,
                if (bs != "none") c(bs, sprintf("beta%g", beta), if (binding) "binding" else "nonbinding")),
              collapse = "/")
  if (first_crit(type, alpha, sided, rates[1]) > 7) {
    skipped[[length(skipped) + 1L]] <<- id
    return(invisible())
  }
  args <- list(kMax = length(rates), alpha = alpha, sided = sided, typeOfDesign = type,
               informationRates = rates)
  call <- sprintf("getDesignGroupSequential(kMax = %d, alpha = %g, sided = %d, typeOfDesign = \"%s\", informationRates = c(%s)",
                  length(rates), alpha, sided, type, paste(rates, collapse = ", "))
  if (bs != "none") {
    args$beta <- beta
    args$typeBetaSpending <- bs
    args$bindingFutility <- binding
    call <- paste0(call, sprintf(", beta = %g, typeBetaSpending = \"%s\", bindingFutility = %s", beta, bs, binding))
  }
  call <- paste0(call, ")")
  d <- suppressWarnings(do.call(getDesignGroupSequential, args))
  if (any(!is.finite(d$criticalValues)) || any(d$criticalValues > 7.9)) {
    skipped[[length(skipped) + 1L]] <<- paste(id, "(a critical value at rpact's search limit 8)")
    return(invisible())
  }
  values <- list(criticalValues = as_array(d$criticalValues), alphaSpent = as_array(d$alphaSpent),
                 stageLevels = as_array(d$stageLevels))
  if (bs != "none") {
    values$futilityBounds <- as_array(d$futilityBounds)
    values$betaSpent <- as_array(d$betaSpent)
    values$power <- as_array(d$power)
  }
  if (sided == 1) {
    dc <- suppressWarnings(getDesignCharacteristics(d))
    values$shift <- dc$shift
    values$inflationFactor <- dc$inflationFactor
    if (bs == "none") values$power <- as_array(dc$power)
    call <- paste0(call, "; getDesignCharacteristics(d)")
  }
  cases[[length(cases) + 1L]] <<- list(
    id = id, kind = if (bs == "none") "alpha_spending" else "beta_spending",
    typeOfDesign = type, alpha = alpha, sided = sided, beta = beta, typeBetaSpending = bs,
    bindingFutility = binding, informationRates = as_array(rates), call = call, values = values)
}

for (set in names(rate_sets)) for (type in c("asOF", "asP")) {
  for (a in c(0.025, 0.05, 0.01)) design_case(set, type, a, 1)
  for (a in c(0.05, 0.01)) design_case(set, type, a, 2)
}
for (set in c(names(rate_sets)[1:5], "many")) for (type in c("asOF", "asP")) for (bs in c("bsOF", "bsP"))
  for (b in c(0.2, 0.1)) for (binding in c(FALSE, TRUE)) {
    design_case(set, type, 0.025, 1, beta = b, bs = bs, binding = binding)
    if (bs == "bsOF" && !binding) design_case(set, type, 0.05, 1, beta = b, bs = bs, binding = binding)
  }

## the example of issue 12
ex <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                               informationRates = c(.3, .6, 1))
kinds <- table(vapply(cases, function(cs) cs$kind, character(1)))
header <- c(list(generator = "tests/pooling/reference/make_reference_sequential.R"),
            versions(),
            list(grid = list(n_cases = length(cases),
                             counts = setNames(as.list(as.integer(kinds)), names(kinds)),
                             skipped = as_array(unlist(skipped))),
                 issue_example = list(call = "getDesignGroupSequential(kMax=3, alpha=0.025, sided=1, typeOfDesign=\"asOF\", informationRates=c(.3,.6,1))",
                                      printed = as_array(c(3.928573, 2.669972, 1.981024)),
                                      criticalValues = as_array(ex$criticalValues))))
write_reference(out_file, header, cases)
