## Reference for the rules behind the summary of findings (livemeta.analysis.grade and
## livemeta.pooling.plausibility), computed here from printed numbers, independently of livemeta.
##
##   Rscript tests/analysis/reference/make_grade_reference.R     (from the repository root)
##
## Reads bundled_inputs.csv (derive_inputs.py: the bundled study files, no livemeta module) for the
## PFS, acquired-resistance OS and ORR analyses; the hazard ratios checked for plausibility are the
## printed ones of the study files (their raw_text). Writes grade_reference.json:
##   plausibility  per HR: the events 4 / vi implies at the printed CI level (exactly, and the fewest
##                 with each bound anywhere within its rounding, +- half a unit of its last decimal),
##                 the P the CI implies (exactly, and its range over that rounding), the printed P's
##                 range, and the two flags: events > n randomised, P outside the range
##   models        rma(method = "REML", test = "knha") and test = "z" of PFS and acquired-resistance
##                 OS: predict()'s prediction intervals (t on k - 1 df, and normal) and the diversity
##                 D^2 = 1 - se_FE^2 / se_RE^2 (Wetterslev 2009) of the REML model
##   ois           the optimal information size: (qnorm(0.975) + qnorm(0.8))^2 / log(E)^2 for HR 0.80,
##                 and in patients for OR 1.25 at the ORR control risk (the median of the control
##                 arms' risks): Fleiss's closed form and power.prop.test()'s n
##   absolute      risks per 1,000 with a risk ratio (bounded at 1) and an odds ratio
suppressPackageStartupMessages(library(metafor))
source(file.path("tests", "pooling", "reference", "json_writer.R"))
here <- "tests/analysis/reference"
d <- read.csv(file.path(here, "bundled_inputs.csv"), stringsAsFactors = FALSE, na.strings = "")

half_unit <- function(x) {  # half a unit of the last decimal of x as printed
  s <- format(x, digits = 15, scientific = FALSE, drop0trailing = TRUE)
  dec <- if (grepl(".", s, fixed = TRUE)) nchar(sub("^[^.]*\\.", "", s)) else 0
  0.5 * 10^(-dec)
}

# hazard ratios with a printed P as the study files give them (raw_text), and their n randomised
hrs <- list(
  list(trial = "lung-map-s1800a", hr = 0.69, lo = 0.51, hi = 0.92, level = 95, p = 0.05, sided = "one", n = 136),
  list(trial = "lung-map-s1800a@80", hr = 0.69, lo = 0.51, hi = 0.92, level = 80, p = 0.05, sided = "one", n = 136),
  list(trial = "contact-01", hr = 0.88, lo = 0.68, hi = 1.16, level = 95, p = 0.3668, sided = NA, n = 366),
  list(trial = "leap-008", hr = 0.98, lo = 0.78, hi = 1.23, level = 95, p = 0.4342, sided = "one", n = 422),
  list(trial = "alter-l016-l018", hr = 0.82, lo = 0.47, hi = 1.44, level = 95, p = 0.488, sided = NA, n = 71),
  list(trial = "sapphire", hr = 0.86, lo = 0.70, hi = 1.05, level = 95, p = 0.144, sided = NA, n = 577),
  list(trial = "keyvibe-002-pfs", hr = 0.77, lo = 0.53, hi = 1.13, level = 95, p = 0.091, sided = NA, n = 255),
  list(trial = "keyvibe-002-pfs-subgroup", hr = 1.40, lo = 0.96, hi = 2.02, level = 95, p = 0.9622, sided = NA, n = 255)
)

plaus <- lapply(hrs, function(h) {
  z <- qnorm(1 - (1 - h$level / 100) / 2)
  se <- (log(h$hi) - log(h$lo)) / (2 * z)
  se_wide <- (log(h$hi + half_unit(h$hi)) - log(h$lo - half_unit(h$lo))) / (2 * z)
  se_narrow <- (log(h$hi - half_unit(h$hi)) - log(h$lo + half_unit(h$lo))) / (2 * z)
  hr_box <- c(h$hr - half_unit(h$hr), h$hr + half_unit(h$hr))
  l <- abs(log(hr_box))
  lmin <- if (hr_box[1] <= 1 && 1 <= hr_box[2]) 0 else min(l)
  lmax <- max(l)
  p2_exact <- 2 * pnorm(-abs(log(h$hr)) / se)
  p2_range <- c(2 * pnorm(-lmax / se_narrow), 2 * pnorm(-lmin / se_wide))
  p_box <- c(h$p - half_unit(h$p), h$p + half_unit(h$p))
  overlaps <- function(a, b) a[1] <= b[2] && b[1] <= a[2]
  readings <- list(two = p2_range, one = p2_range / 2, one_other = rev(1 - p2_range / 2))
  allowed <- if (is.na(h$sided)) readings else if (h$sided == "two") readings["two"] else readings[c("one", "one_other")]
  p_agrees <- any(vapply(allowed, function(r) overlaps(r, p_box), logical(1)))
  list(trial = h$trial, level = h$level, events_exact = 4 / se^2, events_min = 4 / se_wide^2, n = h$n,
       p_two_exact = p2_exact, p_two_range = as_array(p2_range), p_printed_range = as_array(p_box),
       flag_events = 4 / se_wide^2 > h$n, flag_p = !p_agrees)
})

models <- lapply(c("pfs", "os_acquired"), function(a) {
  s <- d[d$analysis == a, ]
  yi <- log(s$hr)
  vi <- ((log(s$ci_high) - log(s$ci_low)) / (2 * qnorm(1 - (1 - s$ci_level / 100) / 2)))^2
  knha <- rma(yi, vi, method = "REML", test = "knha")
  z <- rma(yi, vi, method = "REML", test = "z")
  fe <- rma(yi, vi, method = "FE")
  pk <- predict(knha)
  pz <- predict(z)
  list(analysis = a, k = knha$k, tau2 = knha$tau2, I2 = knha$I2, ci_lb = knha$ci.lb, ci_ub = knha$ci.ub,
       pi_lb_t = pk$pi.lb, pi_ub_t = pk$pi.ub, pi_lb_normal = pz$pi.lb, pi_ub_normal = pz$pi.ub,
       D2 = 1 - fe$se^2 / z$se^2, yi = as_array(yi), vi = as_array(vi),
       call = "rma(yi, vi, method = 'REML', test = 'knha' | 'z'); predict(); D2 = 1 - se_FE^2 / se_REML^2")
})

orr <- d[d$analysis == "orr", ]
pc <- median(orr$ci / orr$n2i)
or <- 1.25
pe <- or * pc / (1 - pc + or * pc)
za <- qnorm(0.975); zb <- qnorm(0.8)
pbar <- (pc + pe) / 2
n_closed <- (za * sqrt(2 * pbar * (1 - pbar)) + zb * sqrt(pc * (1 - pc) + pe * (1 - pe)))^2 / (pe - pc)^2
n_ppt <- power.prop.test(p1 = pc, p2 = pe, power = 0.8, sig.level = 0.05, tol = 1e-12)$n
ois <- list(hr = 0.8, information = (za + zb)^2 / log(0.8)^2, events = 4 * (za + zb)^2 / log(0.8)^2,
            or = or, control_risk = pc, risk_with = pe, n_per_group_closed = n_closed,
            n_per_group_power_prop_test = n_ppt, participants = sum(orr$n1i + orr$n2i),
            call = "Fleiss without continuity correction; power.prop.test(p1 = pc, p2 = pe, power = 0.8)")

absolute <- list(
  list(measure = "RR", control_risk = 0.425, estimate = 1.8, ci_low = 1.3, ci_high = 2.6,
       per_1000 = as_array(1000 * pmin(1, c(1.8, 1.3, 2.6) * 0.425)),
       unbounded = as_array(1000 * c(1.8, 1.3, 2.6) * 0.425)),
  list(measure = "OR", control_risk = 0.425, estimate = 1.8, ci_low = 1.3, ci_high = 2.6,
       per_1000 = as_array(1000 * c(1.8, 1.3, 2.6) * 0.425 / (1 - 0.425 + c(1.8, 1.3, 2.6) * 0.425)))
)

cases <- list(list(name = "plausibility", hrs = plaus), list(name = "models", models = models),
              list(name = "ois", ois = ois), list(name = "absolute", effects = absolute))
write_reference(reference_out(file.path(here, "grade_reference.json")),
                c(list(generator = "tests/analysis/reference/make_grade_reference.R"), versions()), cases)
