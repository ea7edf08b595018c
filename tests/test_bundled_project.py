"""The README's main job on the bundled evidence project, as CI runs it: a clone of this repository
builds its history with real processes and pools it (that `livemeta verify` then finds the database
equal to a fresh replay, in a real process, is tests/test_packaging.py's)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def livemeta(cwd, *args):
    return subprocess.run([sys.executable, "-m", "livemeta", *args], cwd=cwd, capture_output=True, text=True)


def test_a_clone_builds_the_bundled_history_and_pools(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    out = livemeta(clone, "build")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^revision 1 [0-9a-f]{9} Start the evidence project: the review's evidence set \(version "
                     r"review-2025\): 29 added; names version review-2025$", out.stdout, re.M), out.stdout
    assert re.search(r"^revision 2 [0-9a-f]{9} Living update: trials reported after the review's search window: "
                     r"5 added$", out.stdout, re.M), out.stdout
    # the merges of issues 12 and 11 changed the analyses (new analyses and monitoring; the GRADE
    # file): analyses only, and their developer text is no note
    assert re.search(r"^revision 3 a43229da6 \(no note\): analyses only \(queries/analyses.yaml\); a merge", out.stdout,
                     re.M), out.stdout
    assert re.search(r"^revision 4 5521b1fb2 \(no note\): analyses only \(data/grade.yaml, livemeta.yaml\); a merge",
                     out.stdout, re.M), out.stdout
    log = livemeta(clone, "log").stdout
    merges = log[log.index("\n   3  "):log.index("\n   5  ") if "\n   5  " in log else None]
    assert "Merge issue-12" not in log and "migration 0005" not in log and "conclusion changed" not in merges
    assert re.search(r"^   3  \S+ \S+  a43229da6  analyses only  .*: \(no note\)$", log, re.M), log
    # issue 21: the sources cite the primary publications (no number changed: the estimates stay)
    assert re.search(r"^revision 8 [0-9a-f]{9} Sources now cite the trials' primary publications \(DOI, PMID\) where "
                     r"found; news pages stay as secondary sources and no estimate changed\.: 11 superseded; a merge",
                     out.stdout, re.M), out.stdout
    # (`livemeta verify` on a clone of this repository, in a real process: tests/test_packaging.py)
    out = livemeta(clone, "pool", "os")
    assert out.returncode == 0 and "identical to the numbers stored" in out.stderr
    assert "+5 trials since review-2025" in out.stdout and "none of them in an analysis yet" in out.stdout
    out = livemeta(clone, "version", "list")
    assert out.stdout.startswith("review-2025          revision 1")
