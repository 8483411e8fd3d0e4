"""The pipeline benchmark's own arithmetic: how far apart its runs are, and how its slowest events group."""

from __future__ import annotations

import pytest

from tests.test_bench_seed import bench_module

pipeline = bench_module("event_pipeline")


def test_events_committed_within_a_tenth_of_a_second_of_each_other_are_one_burst() -> None:
    # three close together, one alone, then two close together: given out of order
    times = [10.05, 10.0, 12.0, 10.12, 15.0, 15.09]
    assert pipeline.bursts(times) == [3, 1, 2]
    assert pipeline.bursts([]) == []


def test_the_spread_of_runs_is_the_largest_over_the_smallest() -> None:
    assert pipeline.spread_of([0.010, 0.012, 0.011]) == pytest.approx(0.2)
    assert pipeline.spread_of([0.0, 0.01]) == float("inf")
