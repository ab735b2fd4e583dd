"""Fresh backprop exercises for teachers: new numbers, the assignment's questions, and a worked key.

Each variant is a small network (a 1-1-1 chain, a 1-2-1 or a 1-2-2 / 2-2-2 network) with small
integer weights and data and a learning rate of 1/10, 1/5 or 1/4, so that hand arithmetic stays
in short decimals. A variant is drawn from its own seed until it holds the teaching points its level
aims for; the key names every teaching point the variant holds. All answers are exact fractions from
the engine's own passes (`network.descend`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from neuralab.backprop.derive import REDUCTION_HOW, loss_line, problem_lines, render
from neuralab.backprop.network import BackpropConfig, Step, build_graph, descend
from neuralab.backprop.symbolic import Analysis, analyse, num_text, numeric_factors
from neuralab.core.errors import UserError
from neuralab.core.grading import check_count

LEVELS = ("easy", "medium", "hard")
TEACHING_POINTS = {
    "inactive-relu": "a ReLU is inactive ($z < 0$) for one point: no gradient flows back through it, so the "
                     "weights before it do not move for that point",
    "fitted-point": "one point is already fitted exactly ($\\hat{y} = y$): its loss and every one of its "
                    "gradients are zero, so it leaves the weights unchanged",
    "two-paths": "a weight reaches the loss by two paths (through two neurons of the next layer): its partial "
                 "derivative is the sum of both products, and dropping one gives a wrong answer",
}
# level -> (network widths to draw from, the teaching points variant i aims for: AIMS[i % len])
PLANS = {
    "easy": ([[1, 1, 1]], [["inactive-relu"], ["fitted-point"]]),
    "medium": ([[1, 2, 1]], [["inactive-relu"], ["fitted-point"], ["inactive-relu", "fitted-point"]]),
    "hard": ([[1, 2, 2], [2, 2, 2]], [["two-paths", "inactive-relu"], ["two-paths", "fitted-point"]]),
}
WEIGHTS = (-2, -1, 1, 2, 3)
RATES = (Fraction(1, 10), Fraction(1, 5), Fraction(1, 4))
CLEAN_DENOMINATOR = 10_000   # every answer is a decimal with at most 4 places
MAX_ANSWER = 100             # and small enough to compute by hand
TRIES = 2_000                # draws per variant; every level finds one in a few dozen


@dataclass
class Exercise:
    number: int
    level: str
    config: BackpropConfig
    steps: list[Step]
    analysis: Analysis
    teaching: list[str]      # every teaching point the variant holds

    def answers(self) -> dict[str, str]:
        """Every numeric answer by part id ("3.step1.grad.w0", "3.final.w0"), as exact text."""
        out = {}
        for k, step in enumerate(self.steps, start=1):
            out.update({f"{self.number}.step{k}.grad.{name}": num_text(g) for name, g in step.grad.items()})
        out.update({f"{self.number}.final.{name}": num_text(v) for name, v in self.steps[-1].after.items()})
        return out


def teaching_points(config: BackpropConfig, steps: list[Step], analysis: Analysis) -> list[str]:
    """The teaching points a variant holds, read from its passes."""
    passes = [p for step in steps for p in step.passes]
    held = []
    if any(z.data < 0 for p in passes for layer, act in zip(p.graph.pre, config.activations) if act == "relu"
           for z in layer):
        held.append("inactive-relu")
    if any(p.graph.loss.data == 0 for p in passes):
        held.append("fitted-point")
    if any(sum(math.prod(row) != 0 for row in numeric_factors(rule, p.visit)) >= 2
           for rule in analysis.rules.values() for p in passes):
        held.append("two-paths")   # two paths that both carry gradient: dropping either changes the answer
    return held


def _clean(steps: list[Step]) -> bool:
    numbers = [v for s in steps for v in (*s.grad.values(), *s.after.values())]
    moved = steps[-1].after != steps[0].before
    return moved and all(CLEAN_DENOMINATOR % Fraction(v).denominator == 0 and abs(v) <= MAX_ANSWER for v in numbers)


def _draw(rng: random.Random, level: str, aims: list[str]) -> BackpropConfig:
    layers = rng.choice(PLANS[level][0])
    n_weights = sum(a * b for a, b in zip(layers, layers[1:]))
    biases = [Fraction(rng.choice((-1, 0, 1))) for _ in range(sum(layers[1:]))] if level == "hard" and rng.random() < 0.5 else None
    config = BackpropConfig(
        activations=["relu"] * (len(layers) - 2) + ["linear"], layers=layers,
        weights=[Fraction(rng.choice(WEIGHTS)) for _ in range(n_weights)], biases=biases,
        data=[tuple(Fraction(rng.choice(WEIGHTS)) for _ in range(layers[0]))       # inputs: never 0, so
              + tuple(Fraction(rng.randint(-2, 3)) for _ in range(layers[-1])) for _ in range(2)],  # every point can teach
        lr=rng.choice(RATES), loss=rng.choice(("half-squared", "squared") if level == "easy" else
                                             ("half-squared", "squared", "absolute")),
        reduction=rng.choice(("sgd", "sum") if level == "easy" else ("sgd", "sum", "mean")))
    if "fitted-point" in aims:   # point 1 meets the starting weights: its target is their prediction
        x = config.data[0][:layers[0]]
        graph = build_graph(config, config.initial_params(), x, (0,) * layers[-1])
        config.data[0] = (*x, *(out.data for out in graph.prediction))
    return config


def generate(level: str, seed: int, count: int) -> list[Exercise]:
    """`count` variants at `level`; the same (level, seed, count) gives the same exercises."""
    if level not in LEVELS:
        raise UserError(f"--level: unknown level {level!r} (choose from {', '.join(LEVELS)})")
    check_count(count)
    exercises = []
    for number in range(1, count + 1):
        aims = PLANS[level][1][(number - 1) % len(PLANS[level][1])]
        rng = random.Random(f"backprop/{level}/{seed}/{number}")   # a string seed hashes the same in every run
        for _ in range(TRIES):
            config = _draw(rng, level, aims)
            steps = descend(config)
            if not _clean(steps):
                continue
            analysis = analyse(config)
            held = teaching_points(config, steps, analysis)
            if set(aims) <= set(held):
                exercises.append(Exercise(number, level, config, steps, analysis, held))
                break
        else:
            raise RuntimeError(f"no {level} variant for seed {seed}, exercise {number} in {TRIES} draws")
    return exercises


QUESTIONS = [
    "**(a)** Choose a loss for this target and say why. For the numbers, use {loss}",
    "**(b)** Draw the compute graph of one data point, and name every node.",
    "**(c)** Give the partial derivative of the loss with respect to every parameter, as a product of "
    "local derivatives along each path from the loss to it.",
    "**(d)** Write the update expression of every parameter.",
    "**(e)** How the data points are used: {reduction} Compute the gradient each update uses and the "
    "parameters after one step over all the points; give each as a decimal or fraction.",
]


def sheet_markdown(exercise: Exercise) -> str:
    """One exercise as the students see it: the problem and the questions, no answers."""
    config = exercise.config
    questions = [q.format(loss=loss_line(config, why=False), reduction=REDUCTION_HOW[config.reduction])
                 for q in QUESTIONS]
    lines = [f"## Exercise {exercise.number}", "", *problem_lines(config), *(f"{q}\n" for q in questions),
             f"*Answer parts for grading:* `{exercise.number}.stepK.grad.NAME` and `{exercise.number}.final.NAME`, "
             "with NAME one of " + ", ".join(f"`{n}`" for n in config.initial_params()) + ".", ""]
    return "\n".join(lines)


def key_markdown(exercise: Exercise, pictures: list[tuple[str, str]]) -> str:
    """One exercise's worked answer: teaching points, the answers to grade, then the whole derivation."""
    teaching = "; ".join(f"**{t}**: {TEACHING_POINTS[t]}" for t in exercise.teaching)
    answers = ["| part | answer |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in exercise.answers().items()]
    derivation = render(exercise.config, exercise.analysis, exercise.steps, pictures).split("\n", 1)[1]
    derivation = "\n".join("#" * 2 + line if line.startswith("#") else line for line in derivation.splitlines())
    return "\n".join([f"## Exercise {exercise.number}", "", f"**Teaching points.** {teaching}.", "",
                      *answers, "", derivation.strip(), ""])

