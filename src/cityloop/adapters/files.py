"""Attachment files on disk, content-addressed and checksummed.

Files live under ``<var>/attachments/ab/cd/<sha256><suffix>``. A file is written to a
temporary name, flushed to disk and renamed, so a crash never leaves half a file under a real
name; identical uploads share one file. A file that can be made again from another (a
thumbnail) is stored with ``durable=False``: not flushed (a flush costs more CPU than the rest of
an upload), so after a power loss it may be missing or short; :meth:`LocalFileStore.read_intact`
tells, and storing it again repairs it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from cityloop.services.ports import StoredFile


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def store(self, data: bytes, *, suffix: str, durable: bool = True) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{digest[:2]}/{digest[2:4]}/{digest}{suffix}"
        target = self.root / relative
        if not _whole(target, len(data)):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    if durable:
                        os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredFile(path=relative, sha256=digest, size=len(data))

    def read(self, path: str) -> bytes:
        target = (self.root / path).resolve()
        if self.root.resolve() not in target.parents:
            raise FileNotFoundError(path)
        return target.read_bytes()

    def read_intact(self, path: str) -> bytes | None:
        """The file's bytes if it is there and matches the checksum its name carries."""
        try:
            data = self.read(path)
        except FileNotFoundError:
            return None
        digest = Path(path).name.split(".", 1)[0]
        return data if hashlib.sha256(data).hexdigest() == digest else None


def _whole(target: Path, size: int) -> bool:
    """Whether ``target`` is there with ``size`` bytes (a file cut short is written again)."""
    try:
        return target.stat().st_size == size
    except FileNotFoundError:
        return False
