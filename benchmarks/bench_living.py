"""Benchmark of meta-regression and sequential monitoring through the batch path (run by hand).

    python benchmarks/bench_living.py [--n 10000] [--r-fits 2000] [--rpact-designs 1000]

Generates ``--n`` analyses (k = 4..20 studies, two moderators, publication years as looks) and
times, in the same run:

* ``metareg_many(..., mods=["x1", "x2"])`` (REML and DL) over all of them, against a loop of R
  metafor ``rma(yi, vi, mods = ~ x1 + x2, method = "REML")`` per analysis (``--r-fits`` of them),
  checking that both give the same coefficients;
* ``monitor_many`` (trial sequential analysis, target HR 0.80, O'Brien-Fleming spending, D^2
  adjustment) over all of them, against R rpact ``getDesignGroupSequential()`` per design for the
  first ``--rpact-designs`` sets of information fractions, checking the critical values.

R (Rscript with metafor and rpact) is optional: without it the R side is skipped with a message.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from livemeta.pooling.metareg import metareg_many
from livemeta.pooling.sequential import group_sequential_design, monitor_many

R_CODE = textwrap.dedent("""
    suppressPackageStartupMessages({library(metafor); library(rpact)})
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1]); n_fits <- as.integer(args[3])
    ids <- head(unique(d$analysis), n_fits)
    out <- matrix(NA_real_, length(ids), 4)
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_along(ids)) {
      s <- d[d$analysis == ids[i], ]
      r <- tryCatch(rma(yi, vi, mods = ~ x1 + x2, data = s, method = "REML"), error = function(e) NULL)
      out[i, ] <- if (is.null(r)) c(ids[i], NA, NA, NA) else c(ids[i], r$beta[2], r$beta[3], r$tau2)
    }
    t_rma <- proc.time()[["elapsed"]] - t0
    write.csv(data.frame(analysis = out[, 1], b1 = sprintf("%.17g", out[, 2]), b2 = sprintf("%.17g", out[, 3]),
                         tau2 = sprintf("%.17g", out[, 4])), args[4], row.names = FALSE)
    f <- readLines(args[2])
    crit <- character(length(f))
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_along(f)) {
      rates <- as.numeric(strsplit(f[i], " ")[[1]])
      g <- getDesignGroupSequential(kMax = length(rates), alpha = 0.05, sided = 2, typeOfDesign = "asOF",
                                    informationRates = rates)
      crit[i] <- paste(sprintf("%.17g", g$criticalValues), collapse = " ")
    }
    t_rpact <- proc.time()[["elapsed"]] - t0
    writeLines(crit, args[5])
    cat(sprintf("%.6f %.6f\\n", t_rma, t_rpact))
""")


def make_frame(n: int, seed: int = 2025) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = rng.integers(4, 21, size=n)
    gid = np.repeat(np.arange(n), k)
    x1 = rng.uniform(0, 12, gid.size).round(2)
    pos = np.arange(gid.size) - np.repeat(np.cumsum(k) - k, k)
    x2 = (pos % 2).astype(float)  # both values in every analysis
    vi = 10.0 ** rng.uniform(-2.0, -0.5, gid.size)
    tau2 = rng.choice([0.0, 0.01, 0.05], size=n)[gid]
    mu = rng.normal(-0.15, 0.1, n)[gid] - 0.02 * x1 + 0.05 * x2
    yi = rng.normal(mu, np.sqrt(vi + tau2))
    year = rng.integers(2015, 2025, gid.size)
    return pd.DataFrame({"analysis": gid, "yi": yi, "vi": vi, "x1": x1, "x2": x2, "year": year})


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="number of analyses")
    ap.add_argument("--r-fits", type=int, default=2_000, help="analyses fitted one by one with metafor")
    ap.add_argument("--rpact-designs", type=int, default=1_000, help="designs computed one by one with rpact")
    args = ap.parse_args(argv)

    frame = make_frame(args.n)
    print(f"{args.n} analyses, {len(frame)} studies (k = 4..20), moderators x1 (continuous), x2 (binary)")

    for method in ("REML", "DL"):
        reg, t = timed(lambda: metareg_many(frame, "analysis", ["x1", "x2"], method=method))
        print(f"metareg_many {method:<4}: {t:7.2f} s  {args.n / t:9.0f} fits/s  "
              f"(converged {int(reg['converged'].sum())}/{args.n})")
    reg = metareg_many(frame, "analysis", ["x1", "x2"], method="REML")

    mon, t_mon = timed(lambda: monitor_many(frame, "analysis", "year", target=np.log(0.8)))
    n_looks = len(mon)
    print(f"monitor_many (TSA, asOF, D2): {t_mon:7.2f} s  {args.n / t_mon:9.0f} analyses/s  "
          f"({n_looks} looks; {int((mon['crossed'] != '').sum())} boundary crossings)")
    # the information-fraction sets behind the boundaries, as monitor_many built them
    sets = []
    for _, g in mon.groupby("analysis", sort=True):
        below = sorted({float(f) for f in g["fraction"] if f < 1.0})
        sets.append(below + [1.0])
    designs = [s for s in sets if len(s) > 1][: args.rpact_designs]
    _, t_gsd = timed(lambda: [group_sequential_design(s, alpha=0.05, sided=2, characteristics=False)
                              for s in designs])
    print(f"group_sequential_design one by one: {len(designs)} designs in {t_gsd:.2f} s "
          f"({1000 * t_gsd / max(1, len(designs)):.2f} ms per design)")

    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R side skipped: Rscript not found (install r-base, r-cran-metafor and r-cran-rpact to compare)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame.to_csv(tmp / "data.csv", index=False, float_format="%.17g")
        (tmp / "rates.txt").write_text("\n".join(" ".join(f"{x:.17g}" for x in s) for s in designs) + "\n")
        (tmp / "bench.R").write_text(R_CODE)
        t0 = time.perf_counter()
        proc = subprocess.run([rscript, str(tmp / "bench.R"), str(tmp / "data.csv"), str(tmp / "rates.txt"),
                               str(args.r_fits), str(tmp / "rma.csv"), str(tmp / "crit.txt")],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"R side failed (metafor and rpact installed?):\n{proc.stderr.strip()[-800:]}")
            return
        t_rma, t_rpact = (float(x) for x in proc.stdout.split()[-2:])
        r_fit = pd.read_csv(tmp / "rma.csv")
        crit = [np.array([float(x) for x in line.split()]) for line in (tmp / "crit.txt").read_text().splitlines()]
    n_r = len(r_fit)
    ours = reg.set_index("analysis").loc[r_fit["analysis"].astype(int)]
    r_failed = r_fit["tau2"].isna().to_numpy()
    both_failed = int((r_failed & ~ours["converged"].to_numpy()).sum())
    ok = ~r_failed
    diff_b = float(np.max(np.abs(ours[["beta_x1", "beta_x2"]].to_numpy()[ok] - r_fit[["b1", "b2"]].to_numpy()[ok])))
    diff_t = float(np.max(np.abs(ours["tau2"].to_numpy()[ok] - r_fit["tau2"].to_numpy()[ok])))
    ours_crit = [np.array(group_sequential_design(s, alpha=0.05, sided=2, characteristics=False,
                                                  quadrature="rpact").critical_values) for s in designs]
    # rpact searches critical values below 8 only (Inf / NA beyond, which also moves its later
    # boundaries): compare the designs where it found every one
    usable = [(a, b) for a, b in zip(ours_crit, crit) if np.all(np.isfinite(b)) and np.all(b < 7.9)]
    n_cmp = len(usable)
    diff_c = max((float(np.max(np.abs(a - b))) for a, b in usable), default=float("nan"))
    t_reg = timed(lambda: metareg_many(frame, "analysis", ["x1", "x2"], method="REML"))[1]
    print(f"R metafor rma(mods = ~ x1 + x2, REML), one call per analysis: {n_r} fits in {t_rma:.2f} s "
          f"({1000 * t_rma / n_r:.2f} ms per fit; {n_r / t_rma:.0f} fits/s); metareg_many is "
          f"{(t_rma / n_r) / (t_reg / args.n):.0f}x faster per fit; max |coef diff| {diff_b:.1e}, "
          f"max |tau2 diff| {diff_t:.1e}; metafor stopped on {int(r_failed.sum())} (Fisher scoring not converged), "
          f"livemeta reports converged=False on {both_failed} of those and on "
          f"{int((~ours['converged'].to_numpy()).sum())} in all")
    print(f"R rpact getDesignGroupSequential(asOF, two-sided 0.05), one call per design: {len(crit)} designs in "
          f"{t_rpact:.2f} s ({1000 * t_rpact / max(1, len(crit)):.2f} ms per design); livemeta one by one "
          f"{1000 * t_gsd / max(1, len(designs)):.2f} ms; max |critical value diff| (rpact quadrature) {diff_c:.1e} "
          f"over the {n_cmp} designs whose critical values all lie below rpact's search limit 8")
    print(f"(R process wall time {wall:.1f} s including start-up and reading the data)")


if __name__ == "__main__":
    main()
