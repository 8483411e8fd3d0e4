"""Insights: the days' completions as a chart, the streak."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web.chart import daily_chart
from todo.web.pages import Page, page
from todo.web.routes.common import UserDep

router = APIRouter()

PERIODS = ("7", "14", "30", "90")  # days a person can choose to look back over


@router.get("/insights")
async def insights(request: Request, user: UserDep) -> Response:
    asked = request.query_params.get("days", "14")
    days = int(asked) if asked in PERIODS else 14
    stats = await user.call("GET", "/api/stats", params={"days": days})
    data = {"stats": stats, "chart": daily_chart(stats["days"]), "days": days}
    return page(request, "insights.html", Page(title="Insights", user=user, data=data))
