"""Every fixed set of choices a CLI option takes, as an Enum made from the library's own tuple, so
`--help` lists the choices and a wrong value gets click's one-line usage error (exit 2); and the
options several commands share, defined once."""

from __future__ import annotations

from enum import StrEnum
from typing import get_args

import typer

from neuralab.backprop.exercise import LEVELS
from neuralab.backprop.network import LOSSES, REDUCTIONS
from neuralab.calc.config import KEEPS, PRECISIONS, SUPERVISION
from neuralab.calc.layout import FORMATS, SPECIALS
from neuralab.calc.models import MODELS
from neuralab.caption.clips import SPLITS
from neuralab.caption.model import ENCODERS
from neuralab.core.runtime import DEVICES
from neuralab.core.section import Profile as ProfileName
from neuralab.core.section import TrainProfile as TrainProfileName
from neuralab.filters.apply import OUTPUT_FORMATS
from neuralab.filters.model import PADDINGS, SEPIA_RANGES


def choices(name: str, values) -> type[StrEnum]:
    """A str Enum whose members are `values`: its members compare equal to the plain strings."""
    return StrEnum(name, {value: value for value in values})


Device = choices("Device", DEVICES)
Level = choices("Level", LEVELS)
Profile = choices("Profile", get_args(ProfileName))
TrainProfile = choices("TrainProfile", get_args(TrainProfileName))
Model = choices("Model", MODELS)
Format = choices("Format", FORMATS)
Specials = choices("Specials", SPECIALS)
Supervision = choices("Supervision", SUPERVISION)
Keep = choices("Keep", KEEPS)
Precision = choices("Precision", PRECISIONS)
Split = choices("Split", SPLITS)
Encoder = choices("Encoder", ENCODERS)
Loss = choices("Loss", LOSSES)
Reduction = choices("Reduction", REDUCTIONS)
Padding = choices("Padding", PADDINGS)
SepiaRange = choices("SepiaRange", SEPIA_RANGES)
OutputFormat = choices("OutputFormat", OUTPUT_FORMATS)

DataDir = typer.Option(None, "--data-dir", help="Your own MNIST: a Keras mnist.npz, or a folder holding it or the "
                       "four IDX files (optionally .gz). Default: $NEURALAB_MNIST, else the cache.")
DeviceFlag = typer.Option("auto", "--device", help="Where to compute (auto: cuda if present).")
