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


reminders = bench_module("reminder_pipeline")


def test_the_reminder_benchmark_reports_each_process_per_reminder_and_the_lateness_of_every_run() -> None:
    late = [0.01 * n for n in range(1, 101)]  # 0.01 .. 1.00 s
    runs = [
        reminders.Run(
            cpu={"notifications service": 0.0025, "PostgreSQL": 0.001}, late=late, probe_ms=(110, 115)
        ),
        reminders.Run(
            cpu={"notifications service": 0.0030, "PostgreSQL": 0.002}, late=late, probe_ms=(120, 118)
        ),
    ]
    lines = reminders.report(runs, count=100)
    assert "| CPU per reminder: notifications service | 2.50 ms | 3.00 ms |" in lines
    assert "| CPU per reminder: all of them | **3.50 ms** | **5.00 ms** |" in lines
    lateness = "p50 0.51 s, p99 1.00 s, max 1.00 s"
    assert f"| written after the reminder's time | {lateness} | {lateness} |" in lines
    speed = "| this machine's speed before / after (`speed_probe_ms`, lower is faster) |"
    assert f"{speed} 110 / 115 ms | 120 / 118 ms |" in lines
