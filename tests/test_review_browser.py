"""The review pages in a real browser: Playwright driving Debian's chromium.

The browser is the system's (``shutil.which("chromium")``), never one downloaded by
``playwright install``. Without chromium or playwright these tests skip with the reason,
except under CI (``CI=true``), where they fail: .ci/run installs chromium and fonts-noto-cjk.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import policyrules
from policyrules.review import render_site
from policyrules.review.view import anchor, cases_for

from .conftest import POLICIES

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHIPPED = sorted(p.stem for p in POLICIES.glob("*.yaml"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}; .ci/run installs chromium with apt-get", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        _unavailable("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    policies = policyrules.load_policies(POLICIES)
    out = tmp_path_factory.mktemp("site")
    render_site(policies, cases_for(policies, POLICIES), out)
    return out


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_every_rule_id_and_quote_is_visible(page: Any, site: Path, policy_id: str, tmp_path: Path) -> None:
    policy = policyrules.load_policy(POLICIES / f"{policy_id}.yaml")
    page.goto((site / f"{policy_id}.html").as_uri())
    shown = page.evaluate("""() => [...document.querySelectorAll('article.rule')].map(a => ({
        id: a.querySelector('.rule-id').innerText, anchor: a.id,
        visible: a.querySelector('.rule-id').checkVisibility(),
        quotes: [...a.querySelectorAll('blockquote.cite .quote')]
                 .filter(q => q.checkVisibility()).map(q => q.innerText)}))""")
    by_id = {row["id"]: row for row in shown}
    assert set(by_id) == {rule.id for rule in policy.model.rules}
    for rule in policy.model.rules:
        row = by_id[rule.id]
        assert row["visible"] and row["anchor"] == anchor("rule", rule.id)
        assert [squeeze(q) for q in row["quotes"]] == [squeeze(c.quote) for c in rule.citations]
    page.screenshot(path=str(tmp_path / f"{policy_id}.png"))


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_a_highlighted_span_leads_to_its_rule(page: Any, site: Path, policy_id: str, tmp_path: Path) -> None:
    page.goto((site / f"{policy_id}.html").as_uri())
    span = page.locator("#notice-text a.q").first
    href = span.get_attribute("href")
    assert href and href.startswith("#rule-")
    span.scroll_into_view_if_needed()
    span.click()
    page.wait_for_function("h => location.hash === h", arg=href)
    target = page.locator(href)
    assert target.evaluate("el => el.matches(':target') && el.tagName === 'ARTICLE'")
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < 900, box  # scrolled to, below the top bar
    assert target.locator(".rule-id").is_visible()
    page.screenshot(path=str(tmp_path / f"{policy_id}-target.png"))
    # and back: the rule's quote leads to its place in the notice
    back = target.locator("a[href^='#src-']").first
    back.click()
    source_anchor = back.get_attribute("href")
    page.wait_for_function("h => location.hash === h", arg=source_anchor)
    assert page.locator(f"#notice-text {source_anchor}").count() == 1


def test_the_index_lists_every_policy_with_its_share(page: Any, site: Path, tmp_path: Path) -> None:
    page.goto((site / "index.html").as_uri())
    rows = page.evaluate("""() => [...document.querySelectorAll('#policies tr')].slice(1).map(r => ({
        id: r.querySelector('code').innerText, share: r.querySelector('.share-cell').innerText}))""")
    assert sorted(r["id"] for r in rows) == SHIPPED
    assert all(r["share"].endswith("%") for r in rows)
    page.locator("#policies a").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(".html") and page.locator("article.rule").count() > 0
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
