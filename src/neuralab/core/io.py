"""Small file helpers: atomic writes (temp file in the same folder, then rename), figures written the
same way, output paths checked before the work that fills them, and hashing."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
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


def check_writable(target: Path | str, suffix: str | None = None) -> Path:
    """An output file's path, refused before any work when the end would fail to write it: a folder
    of that name, a nearest existing folder above it that is a file or not writable, another suffix."""
    target = Path(target)
    if suffix is not None and target.suffix.lower() != suffix:
        raise UserError(f"{target}: must end in {suffix}")
    if target.is_dir():
        raise UserError(f"{target}: is a folder, not a file")
    holder = next(folder for folder in target.absolute().parents if folder.exists())
    if not holder.is_dir():
        raise UserError(f"{target}: cannot write there ({holder} is not a folder)")
    if not os.access(holder, os.W_OK | os.X_OK):
        raise UserError(f"{target}: cannot write there ({holder} is not writable)")
    return target


def sha256_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
