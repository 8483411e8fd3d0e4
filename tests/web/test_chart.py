"""The insights chart's geometry. Pure."""

from __future__ import annotations

from todo.web.chart import HEIGHT, daily_chart


def test_bars_scale_to_the_busiest_day_and_share_a_baseline() -> None:
    days = [{"date": "2026-11-25", "created": 4, "completed": 2},
            {"date": "2026-11-26", "created": 0, "completed": 1},
            {"date": "2026-11-27", "created": 1, "completed": 0}]  # fmt: skip
    chart = daily_chart(days)
    heights = {(b.label.split(":")[0], b.kind): b.height for b in chart.bars}
    tallest = heights[("Wed 25 Nov", "created")]
    assert heights[("Wed 25 Nov", "completed")] == tallest / 2
    assert heights[("Thu 26 Nov", "created")] == 0
    assert all(round(b.y + b.height, 1) == chart.baseline for b in chart.bars)
    assert chart.baseline < HEIGHT
    assert [b.label for b in chart.bars][:2] == ["Wed 25 Nov: 4 created", "Wed 25 Nov: 2 completed"]
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs)  # left to right, no overlap
    assert [t.text for t in chart.y_labels] == ["0", "4"]


def test_today_is_always_labelled_and_an_empty_period_draws_flat() -> None:
    days = [{"date": f"2026-11-{d:02d}", "created": 0, "completed": 0} for d in range(1, 31)]
    chart = daily_chart(days)
    assert chart.x_labels[-1].text == "30 Nov"
    assert len(chart.x_labels) <= 8
    assert {b.height for b in chart.bars} == {0}
