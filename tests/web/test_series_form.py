"""The recurring-series form turned into the API's fields, and a series' rule in words. Pure."""

from __future__ import annotations

from todo.web.series_form import SeriesForm, describe, monthly_choices


def form(**fields: str | list[str]) -> dict[str, str | list[str]]:
    return {"title": "Standup", "start": "2026-11-30T09:00", "timezone": "Europe/Berlin", **fields}


def test_weekly_on_chosen_days_becomes_an_rrule() -> None:
    body = SeriesForm.model_validate(
        form(recurrence_type="weekly", interval="2", weekdays=["WE", "MO", "XX"])
    ).to_api()
    assert body["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"  # week order, unknown days dropped
    assert (body["recurrence_type"], body["recurrence_interval"]) == ("weekly", 2)
    assert (body["start_date"], body["timezone"], body["repeat_from"]) == (
        "2026-11-30T09:00",
        "Europe/Berlin",
        "schedule",
    )


def test_monthly_on_the_last_friday() -> None:
    body = SeriesForm.model_validate(form(recurrence_type="monthly", monthly_on="-1 FR")).to_api()
    assert body["rrule"] == "FREQ=MONTHLY;BYDAY=-1FR"
    assert ("-1 FR", "on the last Fri") in monthly_choices()


def test_plain_rules_need_no_rrule_and_optional_fields_stay_out() -> None:
    body = SeriesForm.model_validate(form(recurrence_type="daily", repeat_from="completion")).to_api()
    assert "rrule" not in body
    assert "end_date" not in body
    assert "count" not in body
    assert body["repeat_from"] == "completion"


def test_numbers_that_are_not_numbers_reach_the_api_as_typed() -> None:
    body = SeriesForm.model_validate(form(interval="two", count="5")).to_api()
    assert (body["recurrence_interval"], body["count"]) == ("two", 5)  # the API answers 422 for the field


def test_rules_in_words() -> None:
    weekly = {
        "recurrence_type": "weekly",
        "recurrence_interval": 2,
        "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
    }
    assert describe(weekly) == "every 2 weeks on Mon, Wed"
    monthly = {"recurrence_type": "monthly", "recurrence_interval": 1, "rrule": "FREQ=MONTHLY;BYDAY=-1FR"}
    assert describe(monthly) == "every month on the last Fri"
    daily = {"recurrence_type": "daily", "recurrence_interval": 1, "rrule": None, "repeat_from": "completion"}
    assert describe(daily) == "every day, counted from each completion"


def test_monthly_on_the_last_day_of_the_month_and_back() -> None:
    body = SeriesForm.model_validate(form(recurrence_type="monthly", monthly_on="last-day")).to_api()
    assert body["rrule"] == "FREQ=MONTHLY;BYMONTHDAY=-1"
    assert ("last-day", "on the last day of the month") in monthly_choices()
    saved = {"title": "Pay rent", "recurrence_type": "monthly", "recurrence_interval": 1, "priority": 2,
             "rrule": body["rrule"], "timezone": "Europe/Berlin"}  # fmt: skip
    assert SeriesForm.from_series(saved, "2026-01-31T09:00", "").monthly_on == "last-day"
    assert describe(saved) == "every month on the last day"
