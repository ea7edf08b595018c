"""Cold start of the light commands, and what they import.

Measures wall time of `livemeta query "select 1"` and `livemeta --help` as fresh subprocesses (the
median of several runs), and lists which heavy modules each imports (must be none of
great_expectations, matplotlib, pandas, sqlmodel). Target: query under 0.5 s.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
HEAVY = ("great_expectations", "matplotlib", "pandas", "sqlmodel", "scipy")


def timed_argv(argv: list[str]) -> float:
    """Median wall time of a fresh process running ``argv``."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(argv: list[str]) -> float:
    return timed_argv([sys.executable, "-m", "livemeta", *argv])


def imports(argv: list[str]) -> list[str]:
    code = (
        "import sys\nfrom livemeta.cli import main\n"
        f"try:\n    main({argv!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        subprocess.run([sys.executable, "-m", "livemeta", "init", "--db", db], check=True, capture_output=True)
        bare = timed_argv([sys.executable, "-c", "pass"])
        q = timed(["query", "select 1", "--db", db])
        h = timed(["--help"])
        print(f"python -c pass                 {bare * 1000:7.0f} ms (interpreter start, for reference)")
        print(f"livemeta query 'select 1'      {q * 1000:7.0f} ms   target < 500 ms   heavy imports: {imports(['query', 'select 1', '--db', db])}")
        print(f"livemeta --help                {h * 1000:7.0f} ms   heavy imports: {imports(['--help'])}")


if __name__ == "__main__":
    main()
