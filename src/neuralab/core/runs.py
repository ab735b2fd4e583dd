"""Run directories and checkpoints.

A run lives in `runs/<part>/<name>/` with `config.json` (the resolved config), `metrics.jsonl`
(one JSON object per epoch or evaluation) and checkpoints: `<name>.safetensors` for tensors plus a
`<name>.json` sidecar for config, step, metric, data hash and any non-tensor state. Both files are
written atomically. Models are never pickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from neuralab import __version__
from neuralab.core import dist
from neuralab.core.errors import UserError
from neuralab.core.io import atomic_path, atomic_write_json, path_fault

log = logging.getLogger(__name__)


def config_dict(config: Any) -> dict:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)


class Run:
    """A run directory: resolved config, metrics log and checkpoints."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @classmethod
    def create(cls, root: Path | str, part: str, config: Any, name: str | None = None,
               data_sha256: str = "") -> "Run":
        """A new run folder; under torchrun only rank 0 creates it and every rank gets its path.

        `config.json` holds the resolved config and the reuse key's other halves: the data's sha256
        and the version of the code that trains it (`code_version`).
        """
        path = cls._create(root, part, config, name, data_sha256).path if dist.is_main() else None
        return cls(dist.broadcast(path))

    @classmethod
    def _create(cls, root: Path | str, part: str, config: Any, name: str | None, data_sha256: str) -> "Run":
        name = name or time.strftime("%Y%m%d-%H%M%S")
        parent = Path(root) / part
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:   # --out (or a folder in it) is a file, or may not be written
            raise UserError(f"--out: cannot make the run folder {parent} ({e.strerror or type(e).__name__})") from None
        for suffix in range(1, 10_000):   # mkdir is the atomic test: two processes never share a folder
            run = cls(parent / (name if suffix == 1 else f"{name}-{suffix}"))
            try:
                run.path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise UserError(f"--out: {parent} already holds 10,000 runs named {name}")
        atomic_write_json(run.path / "config.json", run_key(part, config, data_sha256))
        return run

    @property
    def config(self) -> dict:
        path = self.path / "config.json"
        if not path.is_file():
            raise UserError(f"{self.path}: not a run directory (no config.json)")
        return json.loads(path.read_text())

    def log_metrics(self, record: dict) -> None:
        if not dist.is_main():
            return
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def metrics(self) -> list[dict]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def refuse_other_data(self, data_sha256: str) -> None:
        """A run is continued (`--resume`) only on the data it was trained on."""
        if self.config.get("data_sha256") != data_sha256:
            raise UserError(f"--resume {self.path}: the run was trained on other MNIST data (sha256 differs)")

    def finish(self, result: dict) -> None:
        """Mark the run finished with its final figures; only finished runs are reused."""
        if dist.is_main():
            atomic_write_json(self.path / "result.json", result)

    @property
    def result(self) -> dict | None:
        path = self.path / "result.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def truncate_metrics(self, after_epoch: int, stage: str = "") -> None:
        """Drop a stage's records past a checkpoint, so a resumed run logs each epoch once."""
        kept = [m for m in self.metrics() if m.get("stage", "") != stage or m.get("epoch", 0) <= after_epoch]
        with atomic_path(self.path / "metrics.jsonl") as tmp:
            tmp.write_text("".join(json.dumps(m) + "\n" for m in kept))


def code_version(part: str) -> str:
    """A digest of the code that trains `part`: its own modules and core's. Any change to them
    changes it, so a run made by other code is never reused."""
    package = Path(__file__).resolve().parent.parent
    files = sorted([*package.joinpath("core").glob("*.py"), *package.joinpath(part).glob("*.py")])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


RUN_KEYS = ("part", "neuralab", "data_sha256", "code")   # what config.json holds besides the config


def run_key(part: str, config: Any, data_sha256: str = "") -> dict:
    """What `config.json` holds and reuse compares: part, version, resolved config, data and code."""
    return {"part": part, "neuralab": __version__, **json.loads(json.dumps(config_dict(config), default=str)),
            "data_sha256": data_sha256, "code": code_version(part)}


CHECKPOINT = "best.safetensors"   # a finished run's kept checkpoint


def runs_holding(root: Path | str, part: str, marker: str = "result.json") -> list[Run]:
    """The runs of `part` under root that hold the file `marker` (result.json: finished), newest first.
    Only this module knows where a run keeps its files."""
    found = sorted((Path(root) / part).glob(f"*/{marker}"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [Run(path.parent) for path in found]


def _newest_matching(root: Path | str, part: str, config: Any, data_sha256: str, marker: str,
                     finished: bool) -> Run | None:
    """The newest run holding `marker` whose config.json is this run key, finished or not as asked."""
    wanted = run_key(part, config, data_sha256)
    for run in runs_holding(root, part, marker):
        try:
            if (run.result is not None) == finished and run.config == wanted:
                return run
        except (UserError, json.JSONDecodeError):
            continue
    return None


def find_finished(root: Path | str, part: str, config: Any, data_sha256: str = "") -> Run | None:
    """The newest finished run of `part` under root with this resolved config, data and code."""
    return _newest_matching(root, part, config, data_sha256, "result.json", finished=True)


def find_interrupted(root: Path | str, part: str, config: Any, data_sha256: str = "") -> Run | None:
    """The newest run with this config, data and code that did not finish but completed an epoch."""
    return _newest_matching(root, part, config, data_sha256, "last.safetensors", finished=False)


def find_reusable(root: Path | str, part: str, config: Any, reuse: bool = True, data_sha256: str = "") -> Run | None:
    """The run to reuse instead of training: the newest finished one with this config, data and code,
    or None when `reuse` is off or there is none. Every trainer and section asks here."""
    found = find_finished(root, part, config, data_sha256) if reuse else None
    if found is not None:
        log.info("%s: reusing finished run %s", part, found.path)
    return found


def resume_point(path: Path | str, part: str, config_type: type) -> tuple[Run, Any]:
    """The run `--resume PATH` continues, and its saved config: a `part` run that has not finished
    and has a `last` checkpoint to go on from."""
    run = Run(path)
    saved = run.config
    if saved.get("part") != part:
        raise UserError(f"--resume {path}: not a {part} run")
    if run.result is not None:
        raise UserError(f"--resume {path}: the run has finished; there is nothing to continue")
    if not (run.path / "last.safetensors").is_file():
        raise UserError(f"--resume {path}: no epoch was completed, so there is no checkpoint to continue from")
    declared = {f.name for f in dataclasses.fields(config_type)}    # a config may hold a run key too (depth's data_sha256)
    fields = {k: v for k, v in saved.items() if k not in RUN_KEYS or k in declared}
    return run, config_from(fields, config_type, f"--resume {path}")


def _flatten(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor (and numpy array) of a nested structure into `tensors`; return the JSON rest."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(obj, np.ndarray):
        tensors[prefix] = torch.from_numpy(np.ascontiguousarray(obj))
        return {"__ndarray__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[_flatten(k, f"{prefix}.k{i}", tensors), _flatten(v, f"{prefix}.{i}", tensors)]
                             for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    return obj


class _BadEntry(Exception):
    """A sidecar `state` entry that does not describe saved tensors: where it is, and what is wrong."""

    def __init__(self, where: str, fault: str):
        super().__init__(f"{where}: {fault}")


def _unflatten(obj: Any, tensors: dict[str, torch.Tensor], where: str = "state") -> Any:
    """The structure `_flatten` wrote, its tensors taken from `tensors`; `_BadEntry` names a malformed entry."""
    if isinstance(obj, dict):
        if "__tensor__" in obj or "__ndarray__" in obj:
            tag = "__tensor__" if "__tensor__" in obj else "__ndarray__"
            name = obj[tag]
            if not isinstance(name, str) or name not in tensors:
                raise _BadEntry(f"{where}.{tag}", f"names {name!r}, which the .safetensors file does not hold")
            return tensors[name] if tag == "__tensor__" else tensors[name].numpy()
        if "__dict__" in obj:
            pairs = obj["__dict__"]
            if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise _BadEntry(f"{where}.__dict__", "must be a list of [key, value] pairs")
            keys = [_unflatten(k, tensors, f"{where}.__dict__[{i}][0]") for i, (k, _) in enumerate(pairs)]
            bad = next(((i, fault) for i, k in enumerate(keys) if (fault := _not_a_key(k))), None)
            if bad is not None:
                raise _BadEntry(f"{where}.__dict__[{bad[0]}][0]", f"{bad[1]} cannot be a key")
            return {k: _unflatten(v, tensors, f"{where}.__dict__[{i}][1]") for i, (k, (_, v)) in enumerate(zip(keys, pairs))}
        if "__tuple__" in obj:
            if not isinstance(obj["__tuple__"], list):
                raise _BadEntry(f"{where}.__tuple__", "must be a list")
            return tuple(_unflatten(v, tensors, f"{where}.__tuple__[{i}]") for i, v in enumerate(obj["__tuple__"]))
        return {k: _unflatten(v, tensors, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, tensors, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


def _not_a_key(key: Any) -> str | None:
    """None for a key `_flatten` could have written (a scalar, or a tuple of such keys), else what it is:
    a tuple holding a list cannot be hashed."""
    if isinstance(key, tuple):
        inner = next((fault for k in key if (fault := _not_a_key(k))), None)
        return f"a tuple holding {inner}" if inner else None
    return None if isinstance(key, (str, int, float, bool)) else f"a {type(key).__name__}"


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """Load `state` into `model`, or one UserError naming the first weight that is missing, extra or of
    another shape than the model (built from the checkpoint's config) needs."""
    wanted = model.state_dict()
    missing, extra = sorted(set(wanted) - set(state)), sorted(set(state) - set(wanted))
    if missing or extra:
        fault = f"lacks the weight {missing[0]}" if missing else f"holds a weight the model has not: {extra[0]}"
        raise UserError(f"{where}: the checkpoint {fault} ({len(missing)} missing, {len(extra)} extra)")
    for name, tensor in wanted.items():
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise UserError(f"{where}: weight {name} has shape {tuple(state[name].shape)}, but the model its config "
                            f"describes needs {tuple(tensor.shape)}")
    model.load_state_dict(state)


def save_checkpoint(path: Path | str, model: torch.nn.Module, *, kind: str, config: Any,
                    step: int = 0, metric: dict | None = None, data_hash: str = "",
                    state: dict | None = None) -> Path:
    """Write `path` (.safetensors) and its `.json` sidecar atomically.

    `state` holds resumable extras (optimizer state, RNG states, epoch); its tensors go into the
    safetensors file under `state.*` and its structure into the sidecar.
    """
    path = Path(path).with_suffix(".safetensors")
    if not dist.is_main():
        return path
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    extra = _flatten(state or {}, "state", tensors)
    meta = {"kind": kind, "version": __version__, "config": config_dict(config), "step": step,
            "metric": metric or {}, "data_hash": data_hash, "state": extra}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp))
    atomic_write_json(path.with_suffix(".json"), meta)
    return path


class Sidecar(BaseModel):
    """What a checkpoint's `.json` sidecar must hold; anything else is refused with one line."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    version: str
    config: dict
    step: int = Field(ge=0)
    metric: dict
    data_hash: str
    state: Any = None


def config_from(saved: Any, config_type: type, where: str, added: dict | None = None) -> Any:
    """A config dataclass from its saved JSON form: every field present, no other, each of its type,
    and the config's own checks passed; else one UserError naming `where` and the field. `added`
    holds fields newer than some saved configs, each with the value that means what those runs did."""
    if not isinstance(saved, dict):
        raise UserError(f"{where}: the saved config is not a JSON object")
    saved = {**(added or {}), **saved}
    names = {f.name for f in dataclasses.fields(config_type)}
    missing, extra = sorted(names - set(saved)), sorted(set(saved) - names)
    if missing or extra:
        raise UserError(f"{where}: the saved config " + (f"lacks {', '.join(missing)}" if missing else
                                                          f"has unknown fields {', '.join(extra)}"))
    try:
        return TypeAdapter(config_type).validate_python(saved)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise UserError(f"{where}: saved config field {field}: {first['msg']}") from None
    except UserError as e:
        raise UserError(f"{where}: saved config: {e}") from None


def load_checkpoint(path: Path | str, kind: str | None = None) -> tuple[dict, dict, dict]:
    """Read a checkpoint; returns (model state_dict, metadata, resumable state).

    Raises UserError if the file is missing, unreadable, or of another kind or version.
    """
    path = Path(path)
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    sidecar = path.with_suffix(".json")
    for part in (path, sidecar):
        if (fault := path_fault(part)) is not None:
            raise UserError(f"{part}: {fault} (a checkpoint is a .safetensors file and its .json sidecar)")
    try:
        meta = Sidecar.model_validate_json(sidecar.read_bytes()).model_dump()
        tensors = load_file(str(path))
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "the sidecar"
        raise UserError(f"{sidecar}: {field}: {first['msg']}") from None
    except (SafetensorError, OSError) as e:
        raise UserError(f"{path}: unreadable checkpoint ({type(e).__name__})") from None
    if kind is not None and meta.get("kind") != kind:
        raise UserError(f"{path}: checkpoint is of kind {meta.get('kind')!r}, expected {kind!r}")
    major = lambda v: str(v).split(".")[0]  # noqa: E731
    if major(meta.get("version")) != major(__version__):
        raise UserError(f"{path}: checkpoint version {meta.get('version')} is incompatible with {__version__}")
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    bad = next((k for k, v in model_state.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
    if bad is not None:
        raise UserError(f"{path}: weight {bad} holds non-finite values (NaN or infinity)")
    try:
        state = _unflatten(meta.get("state") or {}, tensors)
    except _BadEntry as e:
        raise UserError(f"{sidecar}: {e}") from None
    return model_state, meta, state
