"""The review pages (policyrules render): what they show, and that nothing from the YAML
reaches the markup unescaped (the hostile-names fixture)."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import policyrules
from policyrules.review import render_policy, render_site
from policyrules.review.view import anchor, cases_for, policy_view

from .conftest import FIXTURES, POLICIES, ROOT

HOSTILE = FIXTURES / "hostile"
TEMPLATES = ROOT / "policyrules" / "review" / "templates"
INJECTED = ['"""', "'''", "</script><script>alert(1)</script>", "<b>&amp;", "'); import os; ('",
            "'; DROP TABLE x; --", "C:\\new\\table", "<img src=x onerror=alert(2)>"]
#: every element the templates write; anything else came from the data
TAGS = {"html", "head", "meta", "title", "style", "body", "header", "nav", "main", "section", "footer",
        "div", "span", "h1", "h2", "h3", "dl", "dt", "dd", "ul", "ol", "li", "a", "code", "strong",
        "blockquote", "table", "tr", "th", "td", "sup", "p", "article"}
ATTRIBUTES = {"lang", "charset", "name", "content", "class", "id", "href", "title", "style"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def shipped() -> list[tuple[policyrules.Policy, str]]:
    policies = policyrules.load_policies(POLICIES)
    cases = cases_for(policies, POLICIES)
    return [(p, render_policy(p, cases.get(p.id, ()))) for p in policies]


@pytest.fixture(scope="module")
def hostile() -> tuple[policyrules.Policy, str]:
    policy = policyrules.load_policy(HOSTILE / "hostile_2021.yaml")
    return policy, render_policy(policy, cases_for([policy], HOSTILE)["hostile_2021"])


def test_a_page_is_self_contained(shipped: list[tuple[policyrules.Policy, str]]) -> None:
    for _, html in shipped:
        assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
        page = parse(html)
        assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe")]
        for _, attrs in page.tags:  # nothing is fetched: links are fragments (or the index)
            href = attrs.get("href")
            assert href is None or href.startswith("#") or href == "index.html"


def test_every_rule_quote_and_case_is_on_its_page(shipped: list[tuple[policyrules.Policy, str]]) -> None:
    for policy, html in shipped:
        text = squeeze(parse(html).all_text)
        model = policy.model
        for rule in model.rules:
            assert rule.id in text
            for citation in rule.citations:
                assert squeeze(citation.quote) in text, (rule.id, citation.quote)
        for passage in model.not_encoded:
            assert squeeze(passage.reason) in text
        for catalog in model.catalogs.values():
            for entry in catalog.entries:
                assert squeeze(entry.name) in text
        for lst in model.institution_lists.values():
            for member in lst.members:
                assert squeeze(member.name) in text and all(squeeze(a) in text for a in member.aliases)
        for case in cases_for([policy], POLICIES).get(policy.id, []):
            assert squeeze(case.name) in text


def test_every_quote_of_the_document_is_found_and_linked(shipped: list[tuple[policyrules.Policy, str]]) -> None:
    for policy, _ in shipped:
        view = policy_view(policy)
        assert view["source"] is not None
        for outcome in view["outcomes"]:
            for rule in outcome["rules"]:
                for citation in rule["citations"]:
                    if citation["own_document"]:
                        assert citation["found"] and citation["src"].startswith("src-"), (rule["id"], citation)
        # the notice's text is on the page unchanged, segment by segment
        text = (POLICIES / "sources" / policy.model.meta.seed).read_text("utf-8")
        assert "".join(p["text"] for p in view["source"]["pieces"]) == text
        assert 0 < view["source"]["share"] < 1


def test_the_share_is_the_non_space_characters_of_the_quoted_spans(shipped: list[tuple[policyrules.Policy, str]]) -> None:
    policy = shipped[0][0]
    view = policy_view(policy)
    text = (POLICIES / "sources" / policy.model.meta.seed).read_text("utf-8")
    inside = sum(len(squeeze(p["text"])) for p in view["source"]["pieces"] if p["quoted"] or p["not_encoded"])
    assert view["source"]["inside"] == inside and view["source"]["total"] == len(squeeze(text))


def test_cases_shown_with_a_rule_are_those_coverage_counts() -> None:
    policy = policyrules.load_policy(POLICIES / "beita_2021.yaml")
    cases = cases_for([policy], POLICIES)["beita_2021"]
    from policyrules.cases import coverage

    view = policy_view(policy, cases)
    unexercised = {r["id"] for o in view["outcomes"] for r in o["rules"] if not r["cases"]}
    assert unexercised == {r.id for r in coverage(policy, cases)}


def test_hostile_names_stay_text(hostile: tuple[policyrules.Policy, str]) -> None:
    _, html = hostile
    page = parse(html)
    assert {t for t, _ in page.tags} <= TAGS
    for tag, attrs in page.tags:
        assert set(attrs) <= ATTRIBUTES, (tag, attrs)
        if "id" in attrs:
            assert re.fullmatch(r"[A-Za-z0-9_-]+", attrs["id"] or ""), attrs
        if "href" in attrs:
            assert re.fullmatch(r"#[A-Za-z0-9_-]+|index\.html", attrs["href"] or ""), attrs
        if "class" in attrs:
            assert re.fullmatch(r"[a-z -]*", attrs["class"] or ""), attrs
    text = page.all_text
    titles = " ".join(a.get("title") or "" for _, a in page.tags)
    for word in INJECTED:
        assert word in text, word
    assert "'); import os; ('" in titles  # attributes carry the words escaped, not cut
    # a multi-line note comes out with its line break and its backslashes as written
    assert "'''single'''\n</script><script>alert(1)</script> <b>&amp; \\n is not a newline here \\\\ end" in text


def test_hostile_ids_of_names_are_safe() -> None:
    for word in INJECTED:
        made = anchor("x", word)
        assert re.fullmatch(r"x-[A-Za-z0-9_-]*[0-9a-f]{8}", made)
    assert anchor("rule", "a.b") != anchor("rule", "a-b")


def test_templates_never_turn_escaping_off() -> None:
    for template in TEMPLATES.iterdir():
        source = template.read_text("utf-8")
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source
        assert "Markup" not in source


def test_render_site_writes_an_index_and_a_page_per_policy(tmp_path: Path) -> None:
    policies = policyrules.load_policies(POLICIES)
    written = render_site(policies, cases_for(policies, POLICIES), tmp_path / "site")
    assert written[0].name == "index.html" and {p.name for p in written[1:]} == {f"{p.id}.html" for p in policies}
    index = parse(written[0].read_text("utf-8"))
    text = index.all_text
    for policy in policies:
        assert policy.id in text and policy.model.meta.document in text
    assert len(re.findall(r"\d+\.\d%", text)) >= 2 * len(policies) - 1  # each policy, each document


def test_import_policyrules_does_not_import_jinja2() -> None:
    code = "import sys, policyrules; policyrules.load_policies(); assert 'jinja2' not in sys.modules, 'jinja2'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def run(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = prelude + "import sys; from policyrules.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_cli_renders_a_file_and_a_folder(tmp_path: Path) -> None:
    result = run("render", str(POLICIES / "beita_2021.yaml"), "-o", str(tmp_path / "one" / "beita.html"))
    assert result.returncode == 0, result.stderr
    assert "陈家桥卫生院" in (tmp_path / "one" / "beita.html").read_text("utf-8")
    result = run("render", str(HOSTILE), "-o", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "hostile_2021.html").is_file()


@pytest.mark.parametrize("target", ["no/such.yaml", "tests/fixtures/broken/unknown_key.yaml", "tests/fixtures/broken"])
def test_cli_bad_input_exits_2_without_a_traceback(target: str, tmp_path: Path) -> None:
    result = run("render", target, "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and result.stderr and "Traceback" not in result.stderr


def test_cli_without_jinja2_says_what_to_install(tmp_path: Path) -> None:
    result = run("render", str(POLICIES / "beita_2021.yaml"), "-o", str(tmp_path / "x.html"),
                 prelude="import sys; sys.modules['jinja2'] = None; ")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == 'policyrules render needs jinja2: pip install "policyrules[review]"'
