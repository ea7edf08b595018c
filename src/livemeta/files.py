"""Reading a file a user names, bounded: one place says what is wrong with it (missing, not a file,
too large, unreadable) before its bytes are parsed."""

from __future__ import annotations

from pathlib import Path


class Unreadable(Exception):
    """Why a named file cannot be read (the message is the reason, for the caller's own error);
    ``too_large`` when the file is there but over the limit."""

    def __init__(self, reason: str, too_large: bool = False):
        super().__init__(reason)
        self.too_large = too_large


def read_bounded(path: Path | str, max_bytes: int, what: str) -> bytes:
    """The bytes of ``path``, or :class:`Unreadable` with the reason: 'no such file', 'not a
    file', '12,345,678 bytes: larger than the 50 MB <what>', 'cannot be read: ...'."""
    p = Path(path)
    if not p.exists():
        raise Unreadable("no such file")
    if not p.is_file():
        raise Unreadable("not a file")
    size = p.stat().st_size
    if size > max_bytes:
        raise Unreadable(f"{size:,} bytes: larger than the {max_bytes // 2**20} MB {what}", too_large=True)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None
