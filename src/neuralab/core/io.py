"""Small file helpers: atomic writes (temp file in the same folder, then rename), figures written the
same way, output paths checked before the work that fills them, and hashing."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from neuralab.core.errors import UserError


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temp path beside target; rename it onto target only if the block succeeds.

    A target that cannot be written (a folder by that name, a file where a folder should be, no
    permission) raises one UserError naming it.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))   # the user's umask applies
        mode = os.stat(tmp).st_mode & 0o777
    except OSError as e:
        raise UserError(f"{target}: cannot write there ({e.strerror or type(e).__name__})") from None
    try:
        yield tmp
        try:
            os.chmod(tmp, mode)   # one policy for every file, also where the writer made the file anew
            os.replace(tmp, target)
        except OSError as e:
            raise UserError(f"{target}: cannot write there ({e.strerror or type(e).__name__})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(target: Path | str, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_json(target: Path | str, obj: Any) -> None:
    atomic_write_bytes(target, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def save_figure(fig, target: Path | str, dpi: float | str = 110, **savefig) -> Path:
    """Write a matplotlib figure atomically, in the format its suffix names (png, svg, ...); `dpi`
    "figure" keeps the figure's own."""
    target = Path(target)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:] or "png", dpi=dpi, **savefig)
    return target


def _try_folder_in(holder: Path) -> str | None:
    """Why no folder can be made in `holder`, or None: a folder is made and removed at once, so /proc and
    read-only mounts are found as they would be by the work, and nothing is left behind."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".neuralab-check-", dir=holder))
    except OSError as e:
        return f"{holder}: {e.strerror or type(e).__name__}"
    return None


def check_folder(target: Path | str, flag: str) -> Path:
    """An output folder, refused before any work when no folder could be made or written there (a file on
    the way, /proc, no permission), with one UserError that names `flag`. Checking leaves nothing behind."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise UserError(f"{flag}: {target} exists and is not a folder")
    holder = next(folder for folder in (target.absolute(), *target.absolute().parents) if folder.exists())
    if not holder.is_dir():
        raise UserError(f"{flag}: {target}: cannot make a folder there ({holder} is not a folder)")
    if (fault := _try_folder_in(holder)) is not None:
        raise UserError(f"{flag}: {target}: cannot make a folder there ({fault})")
    return target


def check_writable(target: Path | str, suffix: str | None = None, flag: str | None = None) -> Path:
    """An output file's path, refused before any work when the end would fail to write it: a folder of
    that name, a file on the way, a nearest existing folder that cannot be written, another suffix.
    Checking leaves nothing behind."""
    target, prefix = Path(target), f"{flag}: " if flag else ""
    if suffix is not None and target.suffix.lower() != suffix:
        raise UserError(f"{prefix}{target}: must end in {suffix}")
    if target.is_dir():
        raise UserError(f"{prefix}{target}: is a folder, not a file")
    holder = next(folder for folder in target.absolute().parents if folder.exists())
    if not holder.is_dir():
        raise UserError(f"{prefix}{target}: cannot write there ({holder} is not a folder)")
    if (fault := _try_folder_in(holder)) is not None:
        raise UserError(f"{prefix}{target}: cannot write there ({fault})")
    return target


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def path_fault(path: Path | str, folder: bool = False) -> str | None:
    """Why `path` is not a regular file (a folder, with `folder`) that can be read, in a few words; None
    when it is one. Says what the path is: missing, a broken symlink, a symlink loop, a FIFO, a device."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a broken symlink" if path.is_symlink() else "no such file or directory"
    except OSError as e:
        return "a symlink loop" if e.errno == errno.ELOOP else f"cannot be read ({e.strerror or type(e).__name__})"
    if stat.S_ISDIR(mode):
        return None if folder else "a folder, not a file"
    if stat.S_ISREG(mode):
        return "a file, not a folder" if folder else None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"not a regular file ({kind})"


def sha256_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
