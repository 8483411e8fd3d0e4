"""Integrations on the settings page: an API token and a webhook made (each secret shown once), listed,
paused, revoked and removed."""

from __future__ import annotations

import re

from tests.web.conftest import Browser


async def test_a_token_and_a_webhook_are_made_shown_once_and_managed_in_settings(browser: Browser) -> None:
    await browser.sign_up()
    await browser.get("/settings")
    made = await browser.submit("/settings/tokens", {"name": "home automation", "scope": "read"})
    assert made.status_code == 200
    token = re.search(r'<code id="made-token">(todo_pat_[^<]+)</code>', made.text)
    assert token is not None
    page = (await browser.get("/settings")).text
    assert token.group(1) not in page  # shown once
    assert "home automation" in page
    assert f"<code>{token.group(1)[:13]}…</code>" in page

    refused = await browser.submit(
        "/settings/webhooks", {"url": "ftp://example.com", "events": ["task.created"]}
    )
    assert refused.status_code == 422
    wanted = {"url": "https://example.com/hook", "events": ["task.created", "task.due"]}
    hooked = await browser.submit("/settings/webhooks", wanted)
    assert re.search(r'<code id="made-secret">whsec_[^<]+</code>', hooked.text)
    page = (await browser.get("/settings")).text
    assert '<span class="tag">task.due</span>' in page
    assert "Nothing sent yet." in page
    webhook_id = re.findall(r'action="/settings/webhooks/([^/]+)/toggle"', page)[0]
    assert (await browser.submit(f"/settings/webhooks/{webhook_id}/toggle")).status_code == 303
    assert "Paused: paused by you" in (await browser.get("/settings")).text
    assert (await browser.submit(f"/settings/webhooks/{webhook_id}/remove")).status_code == 303

    page = (await browser.get("/settings")).text
    token_id = re.findall(r'action="/settings/tokens/([^/]+)/revoke"', page)[0]
    assert (await browser.submit(f"/settings/tokens/{token_id}/revoke")).status_code == 303
    page = (await browser.get("/settings")).text
    assert "home automation" not in page
    assert 'id="webhooks"' not in page
