"""The insights chart: tasks created and completed per day as SVG geometry, drawn by the template. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 36, 28, 12  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # created | completed
    label: str  # what a screen reader or a tooltip says


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    x_labels: list[Tick]
    y_labels: list[Tick]
    baseline: float


def daily_chart(days: Sequence[Mapping[str, Any]]) -> Chart:
    """Two bars per day (created, completed), scaled to the busiest day; a date label every few days."""
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    top = max([1, *(max(d["created"], d["completed"]) for d in days)])
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.38, 1.0)
    bars: list[Bar] = []
    for i, day in enumerate(days):
        when = date.fromisoformat(day["date"]).strftime("%a %-d %b")
        for j, kind in enumerate(("created", "completed")):
            h = plot_h * day[kind] / top
            x = LEFT + i * slot + slot * 0.1 + j * bar_w
            bars.append(
                Bar(
                    round(x, 1),
                    round(TOP + plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    kind,
                    f"{when}: {day[kind]} {kind}",
                )
            )
    step = max(1, len(days) // 6)
    x_labels = [
        Tick(
            round(LEFT + i * slot + slot / 2, 1), HEIGHT - 8, date.fromisoformat(d["date"]).strftime("%-d %b")
        )
        for i, d in enumerate(days)
        if (len(days) - 1 - i) % step == 0  # count back from today, so today is always labelled
    ]
    y_labels = [
        Tick(LEFT - 6, round(TOP + plot_h - plot_h * v / top + 4, 1), str(v)) for v in sorted({0, top})
    ]
    return Chart(WIDTH, HEIGHT, bars, x_labels, y_labels, TOP + plot_h)
