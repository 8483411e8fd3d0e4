"""The API's own documentation pages work without the internet: every script, style sheet and icon they
load comes from the app itself (an offline or air-gapped install has docs too)."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize(
    ("page", "assets"),
    [("/docs", {"swagger-ui-bundle.js", "swagger-ui.css"}), ("/redoc", {"redoc.standalone.js"})],
)
async def test_the_docs_load_nothing_from_elsewhere(
    client: httpx.AsyncClient, page: str, assets: set[str]
) -> None:
    html = (await client.get(page)).text
    loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets <= {url.rsplit("/", 1)[-1] for url in loaded}
    assert [url for url in loaded if not url.startswith("/")] == []  # no CDN, no other host
    for url in loaded:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 1000, url  # the asset itself, not an error page
