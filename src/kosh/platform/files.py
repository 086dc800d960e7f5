"""Folders and files that hold personal data (uploads, rejects): readable by their owner only."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Any

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create the folder (and missing parents) owner-only, and tighten it if it was created wider."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a folder owned by someone else is left as it is
        os.chmod(path, PRIVATE_DIR)
    return path


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:  # kwargs: passed on to open()
    """`open` for writing a file created owner-only (0600) whatever the umask; an existing file is
    tightened as well."""
    flags = {"w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
             "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL}[mode.replace("b", "")]
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def upload_path(uploads: Path, filename: str | None) -> Path:
    """Where an uploaded file is kept: a private directory of its own (a random name), holding the
    file under the name its user gave it, so every message and the import history name the user's
    file, never the server's copy. Directory parts and control characters are dropped."""
    name = "".join(c for c in Path(filename or "").name if c.isprintable()).strip()[-200:]
    if name in ("", ".", ".."):
        name = "upload"
    return private_dir(uploads / os.urandom(16).hex()) / name


def discard_upload(path: Path) -> None:
    """Remove an uploaded file and the private directory `upload_path` made for it."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty or gone already: nothing more to remove
        path.parent.rmdir()
