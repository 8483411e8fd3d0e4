"""A task's checklist on its page: items added, checked and removed, its progress shown in the lists."""

from __future__ import annotations

import re

from tests.web.conftest import Browser
from tests.web.test_pages import add


async def test_a_checklist_is_kept_on_the_task_page_and_counted_in_the_lists(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/")
    await add(browser, "Paint the fence")
    listing = (await browser.get("/tasks")).text
    task_path = "/tasks/" + re.findall(r'data-task-id="([^"]+)"', listing)[0]
    await browser.get(task_path)
    for text in ("Buy paint", "Sand the boards"):
        added = await browser.submit(f"{task_path}/checklist", {"text": text})
        assert (added.status_code, added.headers["location"]) == (
            303,
            f"{task_path}?saved=checklist#checklist",
        )
    page = (await browser.get(task_path)).text
    items = re.findall(r'data-item-id="([^"]+)"', page)
    assert len(items) == 2
    assert page.index("Buy paint") < page.index("Sand the boards")
    refused = await browser.submit(f"{task_path}/checklist", {"text": "x" * 201})
    assert refused.status_code == 422

    await browser.get(task_path)
    checked = await browser.submit(f"{task_path}/checklist/{items[0]}", {"done": "true"})
    assert checked.status_code == 303
    page = (await browser.get(task_path)).text
    assert 'aria-label="Uncheck “Buy paint”"' in page
    assert '<span class="count">1/2</span>' in page
    assert "☑ 1/2" in (await browser.get("/tasks")).text
    assert "☑ 1/2" in (await browser.get("/")).text

    await browser.get(task_path)
    assert (await browser.submit(f"{task_path}/checklist/{items[1]}/remove")).status_code == 303
    page = (await browser.get(task_path)).text
    assert "Sand the boards" not in page
    assert '<span class="count">1/1</span>' in page
