"""Which runs a profile trains: a plan is a list of grids (variants x activations x depths x seeds).

- `full` is the issue's protocol: the assignment's six runs (Keras model, sigmoid and ReLU,
  depths 1-3) and the variant table at depths 1, 2, 3, 5 and 10, each over 3 seeds x 10 epochs.
- `budget` is the report's: the assignment's six runs, one seed, 10 epochs (about 3 minutes on 2
  cores), then the variant table at depth 3 with sigmoid for what its share has left.
- `quick` is a smoke run: the same six runs and the variant table at depth 3 with sigmoid (the
  collapsing cell), one seed, 2 epochs. Its figures are the first two epochs of the full protocol.

Explicit CLI flags override a field in every grid of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from neuralab.core.errors import UserError
from neuralab.depth.experiment import MAX_DEPTH, MAX_EPOCHS, DepthConfig
from neuralab.depth.model import VARIANTS, check_activation, get_variant

FIRST_SEED = 1234  # the assignment's np.random.seed; seed k of a plan is FIRST_SEED + k
MAX_SEEDS = 100    # seeds per cell: the protocol uses 3


@dataclass(frozen=True)
class Grid:
    variants: tuple[str, ...]
    activations: tuple[str, ...]
    depths: tuple[int, ...]
    seeds: int
    epochs: int

    def configs(self) -> list[DepthConfig]:
        return [DepthConfig(variant=v, activation=a, depth=d, seed=FIRST_SEED + s, epochs=self.epochs)
                for v in self.variants for a in self.activations for d in self.depths
                for s in range(self.seeds)]


ASSIGNMENT = Grid(("keras",), ("sigmoid", "relu"), (1, 2, 3), seeds=3, epochs=10)
PROFILES: dict[str, list[Grid]] = {
    "full": [ASSIGNMENT, Grid(tuple(VARIANTS), ("sigmoid", "relu"), (1, 2, 3, 5, 10), seeds=3, epochs=10)],
    "budget": [replace(ASSIGNMENT, seeds=1)],
    "quick": [replace(ASSIGNMENT, seeds=1, epochs=2),
              Grid(tuple(VARIANTS), ("sigmoid",), (3,), seeds=1, epochs=2)],
    "dry-run": [Grid(("keras",), ("relu",), (1,), seeds=1, epochs=1)],   # one run of one epoch: tests, CI
}
# The report's budget profile adds the variant table at depth 3 (sigmoid, one seed) with as many
# epochs as what is left of its share allows, or none: see `variant_grid`.
VARIANT_CELL = Grid(tuple(VARIANTS), ("sigmoid",), (3,), seeds=1, epochs=10)


def variant_grid(seconds_left: float, seconds_per_epoch: float) -> Grid | None:
    """The variant table at depth 3 with the epochs (1..10) that `seconds_left` pays for; None when
    it does not pay for one epoch of every variant (the share is spent, and the parts after wait)."""
    affordable = int(seconds_left / max(seconds_per_epoch * len(VARIANT_CELL.variants), 1e-9))
    return replace(VARIANT_CELL, epochs=min(affordable, VARIANT_CELL.epochs)) if affordable >= 1 else None


def parse_ints(text: str, flag: str, most: int) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UserError(f"{flag}: expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1 or max(values) > most:
        raise UserError(f"{flag}: expected integers in 1..{most}, got {text!r}")
    return values


def parse_names(text: str, flag: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise UserError(f"{flag}: expected a comma-separated list, got {text!r}")
    return names


def make_plan(profile: str | None = None, *, variants: list[str] | None = None,
              activations: str | None = None, depths: str | None = None,
              epochs: int | None = None, seeds: int | None = None) -> list[Grid]:
    """The profile's grids (default: the assignment's six runs, 3 seeds), with overrides applied."""
    if profile is not None and profile not in PROFILES:
        raise UserError(f"--profile: unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
    grids = PROFILES[profile] if profile else [ASSIGNMENT]
    changes: dict = {}
    if variants:
        changes["variants"] = tuple(get_variant(v).name for vs in variants for v in parse_names(vs, "--variant"))
    if activations is not None:
        changes["activations"] = tuple(check_activation(a) for a in parse_names(activations, "--activations"))
    if depths is not None:
        changes["depths"] = parse_ints(depths, "--depths", MAX_DEPTH)
    for key, value, most in (("epochs", epochs, MAX_EPOCHS), ("seeds", seeds, MAX_SEEDS)):
        if value is not None:
            if not 1 <= value <= most:
                raise UserError(f"--{key}: must be 1..{most}, got {value}")
            changes[key] = value
    return [replace(grid, **changes) for grid in grids]


def plan_configs(grids: list[Grid]) -> list[DepthConfig]:
    return [config for grid in grids for config in grid.configs()]


def plan_depths(grids: list[Grid]) -> list[int]:
    return sorted({d for grid in grids for d in grid.depths})
