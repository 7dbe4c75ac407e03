"""Writing output files that cannot destroy anything.

An output is written to a temporary file beside its target and put in place only once it is
complete, so a failed or interrupted export leaves the old file (or none), never half of one.
An existing file is replaced only when the caller says so (`force`), and the files an archive
is made of (the database, its `-wal`, `-shm` and `-journal`, the crawl lock) are never outputs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from archiver.errors import ArchiverError

ARCHIVE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".lock")


def archive_files(db_path: str | Path) -> list[Path]:
    """The files that make up the archive at `db_path` (whether they exist or not)."""
    return [Path(f"{db_path}{suffix}") for suffix in ARCHIVE_COMPANIONS]


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:
        return False


def check_output(path: str | Path, *, protect: list[Path] = (), force: bool = False) -> Path:
    """`path` as an output, or ArchiverError (exit 2) when writing it could destroy data."""
    path = Path(path)
    for kept in protect:
        if _same_file(path, kept):
            raise ArchiverError(f"{path}: is the archive's own file {kept.name}; "
                                "choose another output")
    if path.is_dir():
        raise ArchiverError(f"{path}: is a directory")
    if not path.parent.is_dir():
        raise ArchiverError(f"{path.parent}: no such directory")
    if (path.exists() or path.is_symlink()) and not force:
        raise ArchiverError(f"{path}: already exists; use --force to replace it")
    return path


@contextlib.contextmanager
def replaced_atomically(path: str | Path, *, protect: list[Path] = (), force: bool = False,
                        encoding: str = "utf-8", newline: str = "") -> Iterator[TextIO]:
    """A text stream whose content becomes `path` when the block ends without an error.

    Without `force` the file is put in place with a hard link, which fails if the name exists
    by then: no check-then-write race can overwrite a file that appeared meanwhile."""
    path = check_output(path, protect=protect, force=force)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
    # O_EXCL: never through a planted symlink; 0o666 & umask, like any file the user creates.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with open(fd, "w", encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if force:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise ArchiverError(f"{path}: already exists; use --force to replace it") from None
            except OSError:  # a file system without hard links: the check above must do
                if path.exists():
                    raise ArchiverError(f"{path}: already exists; use --force to replace it") from None
                os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
