"""The time budget: durations as a user writes them, and a plan whose shares never add up to more
than the budget, whatever the parts actually use."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.core.budget import Plan, parse_duration
from neuralab.core.errors import UserError
from neuralab.report.build import PARTS, ReportConfig, make_plan


@pytest.mark.parametrize("text, seconds", [("600", 600), ("600s", 600), ("10m", 600), ("1.5h", 5400),
                                           (" 90 S ", 90), ("24h", 86400)])
def test_durations_read_as_written(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten minutes", "10 min", "-5m", "59s", "1e3", "24.1h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(UserError, match="--budget"):
        parse_duration(text)


def test_the_default_plan_fits_ten_minutes_and_keeps_room_to_render():
    plan = make_plan(ReportConfig())
    shares = plan.planned()
    assert list(shares) == [p for p, _, _ in PARTS]
    assert sum(shares.values()) + plan.reserve == pytest.approx(600)
    assert plan.reserve >= 5 and shares["depth"] >= 180   # depth's six 10-epoch runs take 3-4 min on 2 cores


@settings(max_examples=200, derandomize=True, deadline=None)
@given(budget=st.floats(60, 86400), weights=st.lists(st.floats(0.1, 50), min_size=1, max_size=6),
       use=st.lists(st.floats(0, 1.5), min_size=6, max_size=6))
def test_shares_never_exceed_the_budget(budget, weights, use):
    """Parts that overrun shrink the shares after them; parts that keep to theirs keep the total."""
    plan = Plan(budget, {f"t{i}": w for i, w in enumerate(weights)}, reserve=0.02 * budget)
    kept = True
    for i, task in enumerate(plan.weights):
        given_s = plan.share(task)
        assert given_s <= plan.planned()[task] + 1e-9
        spent = given_s * use[i]
        kept &= use[i] <= 1
        plan.record(task, spent)
    assert sum(plan.given.values()) + plan.reserve <= budget + 1e-6
    if kept:
        assert sum(plan.spent.values()) + plan.reserve <= budget + 1e-6


def test_a_part_that_overruns_takes_time_from_the_ones_after_it():
    plan = Plan(100, {"a": 1, "b": 1, "c": 2})
    assert plan.share("a") == 25
    plan.record("a", 45)                      # 20 s over
    assert plan.share("b") == pytest.approx(55 / 3)
    plan.record("b", 10)
    assert plan.share("c") == pytest.approx(45)   # what is left, all of it: c is the last
    with pytest.raises(ValueError):
        plan.share("a")
