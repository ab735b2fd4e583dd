"""Time budgets: reading `--budget 10m`, and the plan that shares one budget among several tasks.

A `Plan` hands out time in order. Each task gets its weight's share of the budget less the reserve
(the time kept for rendering), or less if the tasks before it overran: then it gets its weight's
part of what they left. The whole run keeps to the budget as long as every task keeps to what it
was given. A task's share does not grow when another finishes early, so the same budget gives the
same shares, and a run trained to its share is found again and reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from neuralab.core.errors import UserError

MIN_BUDGET = 60.0          # one minute: less cannot train anything worth showing
MAX_BUDGET = 24 * 3600.0   # a day: a longer run wants --profile full and its own machine
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*")


def parse_duration(text: str, flag: str = "--budget") -> float:
    """Seconds in `text`: a number with an optional unit, s, m or h (600, 600s, 10m, 1.5h)."""
    match = _DURATION.fullmatch(text.lower())
    if match is None:
        raise UserError(f"{flag}: expected a duration such as 600s, 10m or 1.5h, got {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_BUDGET <= seconds <= MAX_BUDGET:
        raise UserError(f"{flag}: must be between {MIN_BUDGET:.0f} s and {MAX_BUDGET / 3600:.0f} h, got {text!r}")
    return seconds


@dataclass
class Plan:
    """`budget` seconds shared by `weights` (task -> weight, in the order the tasks run)."""

    budget: float
    weights: dict[str, float]
    reserve: float = 0.0                                  # seconds kept back for the work after the tasks
    spent: dict[str, float] = field(default_factory=dict)
    given: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if not self.weights or min(self.weights.values()) <= 0:
            raise ValueError("every task needs a positive weight")
        if not 0 <= self.reserve < self.budget:
            raise ValueError(f"the reserve {self.reserve} s does not fit the budget {self.budget} s")

    def planned(self) -> dict[str, float]:
        """Each task's share before anything has run."""
        total = sum(self.weights.values())
        return {task: (self.budget - self.reserve) * w / total for task, w in self.weights.items()}

    def share(self, task: str) -> float:
        """The seconds `task` may use now: its planned share, or its weight's part of what is left."""
        left = self.budget - self.reserve - sum(self.spent.values())
        waiting = [t for t in self.weights if t not in self.spent]
        if task not in waiting:
            raise ValueError(f"{task} is not a task still to run")
        fair = max(left, 0.0) * self.weights[task] / sum(self.weights[t] for t in waiting)
        self.given[task] = min(self.planned()[task], fair)
        return self.given[task]

    def record(self, task: str, seconds: float) -> None:
        self.spent[task] = seconds
