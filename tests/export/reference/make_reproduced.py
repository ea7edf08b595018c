"""Regenerate bundled_review-2025_reproduced.json: the output of the exported reproduce.R (R, metafor)
for the data package of the bundled project at version review-2025.

    .venv/bin/python tests/export/reference/make_reproduced.py      (needs Rscript with metafor)

A clone of this repository is built, its version review-2025 exported, and reproduce.R run on the
package; its reproduced.json (every number metafor computed, at %.17g, with the MD5 of the inputs
it read) is copied here. test_export.py reads it: CI checks the stored numbers against metafor's
without R.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
VERSION = "review-2025"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        livemeta = [sys.executable, "-m", "livemeta"]
        subprocess.run([*livemeta, "build"], cwd=clone, check=True, capture_output=True)
        out = Path(tmp) / "package"
        subprocess.run([*livemeta, "export", "--out", str(out), "--as-of", VERSION], cwd=clone, check=True)
        subprocess.run(["Rscript", str(out / "reproduce.R")], check=True)
        shutil.copyfile(out / "reproduced.json", HERE / f"bundled_{VERSION}_reproduced.json")
    print(f"wrote {HERE / f'bundled_{VERSION}_reproduced.json'}")


if __name__ == "__main__":
    main()
