"""The README's notebook example runs as written, in a clone of this repository after `livemeta build`."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO, copy_of_bundled


def test_the_readme_notebook_example_runs(made_once, tmp_path):
    text = (REPO / "README.md").read_text()
    code = re.search(r"<!-- notebook-example -->\n```python\n(.*?)```\n<!-- /notebook-example -->", text, re.S).group(1)
    clone = copy_of_bundled(made_once, tmp_path / "clone").root  # a clone, built (`livemeta build`)
    out = subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True,
                         env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GX_ANALYTICS_ENABLED": "false"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "1 True"
    assert lines[1] == "34 29"
    assert lines[2] == "7 0.898 0.816 0.988"  # the OS figure of the bundled evidence (README table)
    assert "REML  knha" in out.stdout
    assert "[('os', 0.88), ('pfs', 0.74)]" in out.stdout or "[('pfs', 0.74), ('os', 0.88)]" in out.stdout
    assert "# Changes from revision 1 to revision " in out.stdout
    assert (clone / "forest-os.png").read_bytes()[:4] == b"\x89PNG"
