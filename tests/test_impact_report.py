"""`policyrules impact --report`: the page's numbers are the summary's, its ids are the changed
rows' classes, and nothing from the YAML reaches the markup unescaped (the hostile-names
fixture); in a real browser (Debian's chromium, as tests/test_review_browser.py drives it) it
renders without console errors and its chart labels are neither clipped nor overlapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("jinja2")

import policyrules  # noqa: E402
from policyrules.cli import main  # noqa: E402
from policyrules.impact import Impact, roster_impact  # noqa: E402
from policyrules.review.impact_page import render_impact  # noqa: E402

from .conftest import FIXTURES  # noqa: E402
from .test_diff import _widened  # noqa: E402
from .test_impact import BEITA, _roster  # noqa: E402
from .test_review import INJECTED, parse  # noqa: E402
from .test_review_browser import browser, page  # noqa: E402, F401  (the fixtures)

HOSTILE = FIXTURES / "hostile"
#: every element and attribute the impact template writes; anything else came from the data
TAGS = {"html", "head", "meta", "title", "style", "body", "header", "nav", "main", "section", "footer",
        "div", "span", "h1", "h2", "h3", "p", "code", "article", "blockquote", "a",
        "svg", "g", "rect", "text"}
ATTRIBUTES = {"lang", "charset", "name", "content", "class", "id", "href", "style", "role", "viewbox", "width",
              "height", "xmlns", "x", "y", "rx", "fill", "text-anchor", "dominant-baseline", "data-from",
              "data-to", "data-outcome", "data-class", "data-href"}
WORDS = {"no": False, "yes": True, "unknown": None, "absent": "absent"}


@pytest.fixture(scope="module")
def beita(tmp_path_factory: pytest.TempPathFactory) -> tuple[Impact, Path]:
    folder = tmp_path_factory.mktemp("impact")
    _roster(folder / "roster.jsonl")
    result = roster_impact(policyrules.load_policy(BEITA), policyrules.load_policy(_widened(folder / "new")),
                           folder / "roster.jsonl")
    page_path = folder / "impact.html"
    page_path.write_text(render_impact(result), "utf-8")
    return result, page_path


def _hostile_impact(tmp_path: Path) -> Impact:
    old = policyrules.load_policy(HOSTILE / "hostile_2021.yaml")
    text = (HOSTILE / "hostile_2021.yaml").read_text("utf-8").replace(
        "statuses: [rural_dibao, destitute]", "statuses: [rural_dibao, destitute, monitored]", 1)
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "sources").symlink_to(HOSTILE / "sources")
    (folder / "hostile_2021.yaml").write_text(text, "utf-8")
    new = policyrules.load_policy(folder / "hostile_2021.yaml")
    rows = [{"id": f"h{n}", "person": {"statuses": ["monitored"], "insured_region": "430511"},
             "encounter": {"date": "2022-01-01", "kind": "inpatient",
                           "institution": {"name": name, **({"region": "430511"} if n % 2 else {})}}}
            for n, name in enumerate(["'); import os; ('卫生院", "<b>&amp;卫生院", "别的医院"] * 2)]
    path = tmp_path / "roster.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return roster_impact(old, new, path)


def test_hostile_names_stay_text(tmp_path: Path) -> None:
    result = _hostile_impact(tmp_path)
    assert result.changed.num_rows > 0
    html = render_impact(result)
    markup = parse(html)
    for tag, attrs in markup.tags:
        assert tag in TAGS, tag
        assert set(attrs) <= ATTRIBUTES, (tag, attrs)
        for name in ("id", "data-outcome", "data-class", "data-from", "data-to"):
            if name in attrs:
                assert re.fullmatch(r"[A-Za-z0-9_-]+", attrs[name] or ""), attrs
        if "href" in attrs:
            assert re.fullmatch(r"#[A-Za-z0-9_-]+", attrs["href"] or ""), attrs
    text = markup.all_text
    for word in ("'); import os; ('卫生院", "<b>&amp;", '"1"号'):  # an institution, the document, the quotes
        assert word in text, word
    assert "<b>&amp;" not in html.replace("&lt;b&gt;&amp;amp;", "")  # only ever escaped
    assert [w for w in INJECTED if w in html] == []  # no injected word reaches the markup as written


def test_the_page_gives_the_summary_numbers(beita: tuple[Impact, Path]) -> None:
    result, path = beita
    markup = parse(path.read_text("utf-8"))
    assert {t for t, _ in markup.tags} <= TAGS
    assert f"{result.rows}" in markup.all_text and f"{result.changed.num_rows}" in markup.all_text


def test_the_cli_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _roster(tmp_path / "roster.jsonl")
    report = tmp_path / "impact.html"
    code = main(["impact", str(BEITA), str(_widened(tmp_path / "new")), str(tmp_path / "roster.jsonl"),
                 "--report", str(report)])
    assert code == 1 and report.read_text("utf-8").startswith("<!DOCTYPE html>")
    capsys.readouterr()
    assert main(["impact", str(BEITA), str(BEITA), str(tmp_path / "roster.jsonl"),
                 "--report", str(tmp_path / "no" / "such" / "dir.html")]) == 2
    assert "cannot write" in capsys.readouterr().err


# ---------------------------------------------------------------- in the browser


@pytest.fixture
def opened(page: Any, beita: tuple[Impact, Path]) -> Iterator[tuple[Any, Impact, list[str]]]:  # noqa: F811
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(beita[1].as_uri())
    yield page, beita[0], problems


def test_the_page_renders_with_the_summarys_numbers(opened: tuple[Any, Impact, list[str]], tmp_path: Path) -> None:
    page, result, problems = opened  # noqa: F811
    assert page.locator("#rows").inner_text() == str(result.rows)
    assert page.locator("#changed").inner_text() == str(result.changed.num_rows)
    assert page.locator("#errors").inner_text() == str(len(result.errors))
    cells = page.evaluate("""() => [...document.querySelectorAll('section.outcome')].flatMap(s =>
        [...s.querySelectorAll('g.cell')].map(g => [s.dataset.outcome, g.dataset.from, g.dataset.to,
                                                    Number(g.querySelector('text').textContent)]))""")
    assert cells
    for outcome, before, after, count in cells:
        assert result.counts[outcome].get((WORDS[before], WORDS[after]), 0) == count
    classes = page.evaluate("""() => [...document.querySelectorAll('article.class')].map(a =>
        [a.dataset.outcome, Number(a.dataset.class), a.id, Number(a.querySelector('.rows').textContent)])""")
    by_class = result.class_counts()
    # every class of the diff is shown, those no row falls in with 0
    assert {(o, c): n for o, c, _, n in classes if n} == {(o, c): n for o, counts in by_class.items()
                                                          for c, n in counts.items()}
    assert result.diff is not None
    assert {(o, c) for o, c, _, _ in classes} == {(o, c) for o, changes in result.diff.outcomes.items()
                                                  for c in range(len(changes))}
    assert all(anchor == f"class-{o}-{c}" for o, c, anchor, _ in classes)
    changed = {(r["outcome"], r["class"]) for r in result.changed_rows()}
    assert {(o, c) for o, c, _, n in classes if n} == changed
    bars = page.evaluate("""() => [...document.querySelectorAll('g.bar')].map(g =>
        Number(g.querySelector('text.count').textContent))""")
    assert sorted(bars) == sorted(n for counts in result.counts.values() for (a, b), n in counts.items() if a != b)
    page.screenshot(path=str(tmp_path / "impact.png"), full_page=True)
    assert problems == []


def test_chart_labels_are_neither_clipped_nor_overlapping(opened: tuple[Any, Impact, list[str]]) -> None:
    page, _, problems = opened  # noqa: F811
    found = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => {
        const box = svg.viewBox.baseVal;
        const texts = [...svg.querySelectorAll('text')].map(t => t.getBBox());
        const outside = texts.filter(b => b.x < box.x - 0.5 || b.y < box.y - 0.5 ||
            b.x + b.width > box.x + box.width + 0.5 || b.y + b.height > box.y + box.height + 0.5).length;
        let overlaps = 0;
        for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
            const a = texts[i], b = texts[j];
            if (a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 &&
                a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5) overlaps++;
        }
        return {texts: texts.length, outside, overlaps};
    })""")
    assert len(found) >= 2 and all(f["texts"] > 0 for f in found)
    assert all(f["outside"] == 0 and f["overlaps"] == 0 for f in found), found
    assert problems == []


def test_a_list_outcome_is_drawn_as_bars(page: Any, tmp_path: Path) -> None:  # noqa: F811
    from .test_impact import xianning_widened

    old, new, _, roster = xianning_widened(tmp_path)
    result = roster_impact(old, new, roster)
    (tmp_path / "impact.html").write_text(render_impact(result), "utf-8")
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto((tmp_path / "impact.html").as_uri())
    section = page.locator("#outcome-reimbursement_layers")
    assert section.locator("svg.matrix").count() == 0 and section.locator("g.bar").count() > 0
    widths = page.evaluate("""() => [...document.querySelectorAll('#outcome-reimbursement_layers svg.bars text')]
        .map(t => t.getBBox().x + t.getBBox().width <= t.ownerSVGElement.viewBox.baseVal.width)""")
    assert widths and all(widths)
    assert problems == []


def test_a_matrix_cell_leads_to_its_classes(opened: tuple[Any, Impact, list[str]]) -> None:
    page, _, _ = opened  # noqa: F811
    link = page.locator("svg.matrix a").first
    href = link.get_attribute("href")
    assert href and href.startswith("#tr-")
    link.click()
    page.wait_for_function("h => location.hash === h", arg=href)
    target = page.locator(href)
    assert target.locator("article.class").count() > 0
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < 900
