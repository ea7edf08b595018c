"""Ingest benchmark: 1,000 study files validated and ingested as one batch (target: under 30 s).

    .venv/bin/python benchmarks/bench_ingest.py [--files 1000]

Generates the files (the template with varied ids and numbers, one in ten as JSON) in a temporary
folder, then times, separately: importing great-expectations (paid once per process), validating
the batch (parse, structure, expectation suites) and ingesting it into an empty database (which
validates again, checks against the database and writes one revision).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

TARGET_SECONDS = 30.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    args = ap.parse_args(argv)

    from livemeta.db import connect
    from livemeta.ingest import ingest_files, validate_files
    from livemeta.ingest.synthetic import write_studies

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        paths = write_studies(tmp / "studies", args.files)
        t_gen = time.perf_counter() - t

        t = time.perf_counter()
        from livemeta.ingest.expectations import _gx

        _gx()
        t_gx = time.perf_counter() - t

        t = time.perf_counter()
        report = validate_files(paths)
        t_validate = time.perf_counter() - t

        db = tmp / "bench.duckdb"
        t = time.perf_counter()
        result = ingest_files(db, paths, message="benchmark", author="bench")
        t_ingest = time.perf_counter() - t

        with connect(db, read_only=True) as con:
            n_trials = con.execute("SELECT count(*) FROM history.trials").fetchone()[0]
            n_outcomes = con.execute("SELECT count(*) FROM history.outcomes").fetchone()[0]
        assert n_trials == args.files, n_trials
        assert n_outcomes == report.rows["outcomes"], n_outcomes

    total = t_validate + t_ingest
    print(f"generated {args.files} files in {t_gen:.1f} s")
    print(f"great-expectations import + context: {t_gx:.1f} s (once per process)")
    print(f"validate {args.files} files: {t_validate:.1f} s")
    print(f"ingest {args.files} files (validate again + db checks + write, revision {result.revision}): {t_ingest:.1f} s")
    print(f"validate + ingest: {total:.1f} s (target < {TARGET_SECONDS:.0f} s) {'OK' if total < TARGET_SECONDS else 'SLOW'}")
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
