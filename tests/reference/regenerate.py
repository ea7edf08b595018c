"""Regenerate every committed R reference file into a temporary folder and compare it with the committed one.

    python tests/reference/regenerate.py [--calcte-dir DIR] [--calcte-commit SHA] [--only NAME ...] [--keep DIR]

From the repository root or anywhere in the checkout. Each reference script of ``REFERENCES`` runs
(with the repository root as its working directory) into a temporary folder, and each file it makes
is compared with the committed file byte for byte: "identical" or "different" (with the number of
lines that differ and the first of them). Exit status 0 when every file is identical, 1 when any
differs or could not be made (a script that fails, or the hazard reference without a calcTE
checkout), 2 for bad arguments.

``make_reference_hazard.R`` needs a checkout of https://github.com/guido-s/calcTE (``--calcte-dir``
or ``CALCTE_DIR``; its commit from ``--calcte-commit``, ``CALCTE_COMMIT`` or the checkout's git
HEAD). The bundled-data references are two steps each: ``derive_inputs.py`` and
``derive_monitoring_inputs.py`` (Python, no livemeta import) write the inputs,
``make_bundled_reference.R`` (metafor) and ``make_monitoring_reference.R`` (metafor, rpact) compute
from them.

The scripts record the versions of R and of every package they used; ``PINNED`` is the one list of
the versions the committed files were made with (``tests/reference/test_reference_versions.py``
checks every file against it). Run under other versions, expect differences: they are what this
script is for.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The versions every committed reference file was made with (R.version.string, packageVersion()
#: as text, and the calcTE commit). A regeneration under other versions is noticed by the tests.
PINNED = {
    "R": "R version 4.2.2 Patched (2022-11-10 r83330)",
    "metafor": "3.8.1",
    "metadat": "1.2.0",
    "Matrix": "1.5.3",
    "rpact": "3.3.4",
    "lme4": "1.1.31",
    "calcTE": "04496cb762c7c91cc09676d5a384ede209a62770",
}


@dataclass(frozen=True)
class Reference:
    name: str
    commands: tuple[tuple[str, ...], ...]  # run in order; OUT is replaced by the output folder
    outputs: tuple[str, ...]  # committed files (repository paths) the commands make
    needs_calcte: bool = False
    env: dict = field(default_factory=dict)


def _rscript(path: str) -> tuple[str, ...]:
    return ("Rscript", path, "OUT")


POOLING = "tests/pooling/reference"
SHOWN = 6  # changed lines shown per different file
REFERENCES = (
    Reference("rma", (_rscript(f"{POOLING}/make_reference_rma.R"),), (f"{POOLING}/rma_reference.json",)),
    Reference("methods", (_rscript(f"{POOLING}/make_reference_methods.R"),), (f"{POOLING}/methods_reference.json",)),
    Reference("influence", (_rscript(f"{POOLING}/make_reference_influence.R"),), (f"{POOLING}/influence_reference.json",)),
    Reference("metareg", (_rscript(f"{POOLING}/make_reference_metareg.R"),), (f"{POOLING}/metareg_reference.json",)),
    Reference("sequential", (_rscript(f"{POOLING}/make_reference_sequential.R"),),
              (f"{POOLING}/sequential_reference.json",)),
    Reference("overrun", (_rscript(f"{POOLING}/make_reference_overrun.R"),), (f"{POOLING}/overrun_reference.json",)),
    Reference("convergence", (_rscript(f"{POOLING}/make_reference_convergence.R"),),
              (f"{POOLING}/convergence_reference.json",)),
    Reference("glmm", (_rscript(f"{POOLING}/make_reference_glmm.R"),), (f"{POOLING}/glmm_reference.json",)),
    Reference("hazard", (_rscript(f"{POOLING}/make_reference_hazard.R"),), (f"{POOLING}/hazard_reference.json",),
              needs_calcte=True),
    Reference("grade", (_rscript("tests/analysis/reference/make_grade_reference.R"),),
              ("tests/analysis/reference/grade_reference.json",)),
    Reference("bundled", ((sys.executable, "tests/analysis/reference/derive_inputs.py", "OUT"),
                          _rscript("tests/analysis/reference/make_bundled_reference.R")),
              ("tests/analysis/reference/bundled_inputs.csv", "tests/analysis/reference/bundled_reference.json")),
    Reference("monitoring", ((sys.executable, "tests/living/reference/derive_monitoring_inputs.py", "OUT"),
                             _rscript("tests/living/reference/make_monitoring_reference.R")),
              ("tests/living/reference/monitoring_inputs.csv", "tests/living/reference/monitoring_reference.json")),
)


def compare(made: Path, committed: Path) -> str:
    """'identical', or 'different: ...' with the lines removed and added (the first few shown)."""
    if not made.exists():
        return "different: not made"
    if not committed.exists():
        return "different: no committed file"
    a, b = made.read_bytes(), committed.read_bytes()
    if a == b:
        return "identical"
    new, old = a.decode("utf-8", "replace").splitlines(), b.decode("utf-8", "replace").splitlines()
    changes = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
               if line[:1] in "-+" and not line.startswith(("---", "+++"))]
    removed = sum(line.startswith("-") for line in changes)
    shown = "\n".join(f"      {line[:150]}{'...' if len(line) > 150 else ''}" for line in changes[:SHOWN])
    return (f"different: {removed} of {len(old)} committed lines replaced or removed, {len(changes) - removed} "
            f"added; the first {min(SHOWN, len(changes))} changes (- committed, + made):\n{shown}")


def r_versions() -> dict[str, str]:
    """R's and the pinned packages' versions on this machine ('missing' when not installed)."""
    pkgs = [p for p in PINNED if p not in ("R", "calcTE")]
    code = ("cat(R.version.string, '\\n', sep = '');"
            f"for (p in c({', '.join(repr(p) for p in pkgs)})) "
            "cat(p, '=', tryCatch(as.character(packageVersion(p)), error = function(e) 'missing'), '\\n', sep = '')")
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True).stdout.splitlines()
    return {"R": out[0], **dict(line.split("=", 1) for line in out[1:])}


def _calcte(args) -> tuple[str | None, str | None]:
    directory = args.calcte_dir or os.environ.get("CALCTE_DIR")
    commit = args.calcte_commit or os.environ.get("CALCTE_COMMIT")
    if directory and not commit:
        got = subprocess.run(["git", "-C", directory, "rev-parse", "HEAD"], capture_output=True, text=True)
        commit = got.stdout.strip() if got.returncode == 0 else None
    return directory, commit


def run(ref: Reference, out: Path, env: dict) -> str | None:
    """Run a reference's commands into ``out``; None, or why it failed."""
    for cmd in ref.commands:
        cmd = [str(out) if part == "OUT" else part for part in cmd]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            return f"`{' '.join(cmd[:2])}` failed (exit {done.returncode}):\n      {tail}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=[r.name for r in REFERENCES], help="these references only")
    parser.add_argument("--calcte-dir", help="a checkout of github.com/guido-s/calcTE (else $CALCTE_DIR)")
    parser.add_argument("--calcte-commit", help="its commit (else $CALCTE_COMMIT, else the checkout's git HEAD)")
    parser.add_argument("--keep", type=Path, help="write the regenerated files into this folder and keep them")
    args = parser.parse_args(argv)
    if shutil.which("Rscript") is None:
        print("Rscript not found: install R (Debian: apt-get install r-cran-metafor r-cran-rpact)", file=sys.stderr)
        return 2

    here = r_versions()
    print("versions here (pinned):")
    for name, pinned in PINNED.items():
        if name != "calcTE":
            mark = "" if here.get(name) == pinned else "   <- differs: expect differences"
            print(f"  {name}: {here.get(name)} ({pinned}){mark}")
    calcte_dir, calcte_commit = _calcte(args)
    refs = [r for r in REFERENCES if not args.only or r.name in args.only]
    results: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="livemeta-references-") as tmp:
        out = args.keep.resolve() if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for ref in refs:
            env = dict(os.environ)
            if ref.needs_calcte:
                if not calcte_dir:
                    for path in ref.outputs:
                        results.append((path, "not made: no calcTE checkout (--calcte-dir or CALCTE_DIR)"))
                        print(f"{ref.name}:\n  {path}: {results[-1][1]}", flush=True)
                    continue
                env.update(CALCTE_DIR=str(Path(calcte_dir).resolve()), CALCTE_COMMIT=calcte_commit or "")
                print(f"  calcTE: {calcte_commit} ({PINNED['calcTE']})")
            start = time.monotonic()
            failed = run(ref, out, env)
            print(f"{ref.name}: {time.monotonic() - start:.0f} s", flush=True)
            for path in ref.outputs:
                status = f"not made: {failed}" if failed else compare(out / Path(path).name, ROOT / path)
                results.append((path, status))
                print(f"  {path}: {status}", flush=True)
    bad = [p for p, s in results if s != "identical"]
    print(f"\n{len(results) - len(bad)} of {len(results)} reference files identical"
          + (f"; not identical: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
