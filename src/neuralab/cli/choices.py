"""How a fixed set of choices becomes a CLI option: an Enum made from the library's own tuple, so
`--help` lists the choices and a wrong value gets click's one-line usage error (exit 2); and the
choices and options several commands share, defined once. A part's own choices live in its command's
module, so a command imports only its own part."""

from __future__ import annotations

from enum import StrEnum
from typing import get_args

import typer

from neuralab.core.runtime import DEVICES
from neuralab.core.section import Profile as ProfileName
from neuralab.core.section import TrainProfile as TrainProfileName


def choices(name: str, values) -> type[StrEnum]:
    """A str Enum whose members are `values`: its members compare equal to the plain strings."""
    return StrEnum(name, {value: value for value in values})


Device = choices("Device", DEVICES)
Profile = choices("Profile", get_args(ProfileName))
TrainProfile = choices("TrainProfile", get_args(TrainProfileName))

DataDir = typer.Option(None, "--data-dir", help="Your own MNIST: a Keras mnist.npz, or a folder holding it or the "
                       "four IDX files (optionally .gz). Default: $NEURALAB_MNIST, else the cache.")
DeviceFlag = typer.Option("auto", "--device", help="Where to compute (auto: cuda if present).")
