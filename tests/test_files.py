"""livemeta.files.read_bounded: the reasons a named file cannot be read, before any parsing."""

from __future__ import annotations

import pytest

from livemeta.files import Unreadable, read_bounded


def test_each_reason_and_the_bytes(tmp_path):
    f = tmp_path / "a.ris"
    f.write_bytes(b"x" * (2**20 + 1))
    assert read_bounded(f, 2 * 2**20, "an export can be") == b"x" * (2**20 + 1)
    with pytest.raises(Unreadable) as info:
        read_bounded(f, 2**20, "an export can be")
    assert str(info.value) == "1,048,577 bytes: larger than the 1 MB an export can be" and info.value.too_large
    for path, reason in ((tmp_path / "missing.ris", "no such file"), (tmp_path, "not a file")):
        with pytest.raises(Unreadable) as info:
            read_bounded(path, 2**20, "an export can be")
        assert str(info.value) == reason and not info.value.too_large
