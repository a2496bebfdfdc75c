"""The review pages, rendered with jinja2 (autoescape on: every text from the YAML, the
source and the cases is escaped, in element text and in attributes alike)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import jinja2

from .. import __version__
from ..cases import Case
from ..policy import Policy
from .view import page_file_name, policy_view, site_view, source_text

__all__ = ["render_policy", "render_site"]


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates of the review and impact pages (one environment, autoescape on)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("policyrules.review", "templates"),
        autoescape=True,  # for every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_policy(policy: Policy, cases: Sequence[Case] = (), *, index_href: str = "") -> str:
    """One self-contained HTML page (inline CSS, no script, nothing fetched) that holds
    ``policy``'s code against its notice; ``cases`` are the YAML cases shown with the rules
    they exercise. ``index_href``, if given, links back to a site's index."""
    view = policy_view(policy, cases)
    template = environment().get_template("policy.html")
    return template.render(**view, version=__version__, index_href=index_href)


def render_site(policies: Iterable[Policy], cases_by_policy: Mapping[str, Sequence[Case]],
                out_dir: str | Path) -> list[Path]:
    """Write ``index.html`` and one page per policy (``<policy id>.html``) into ``out_dir``
    (created if needed); ``cases_by_policy`` maps a policy id to its cases. Returns the paths
    written, the index first."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    templates = environment()
    views = []
    texts: dict[str, str | None] = {}
    written: list[Path] = []
    pages: list[tuple[Path, str]] = []
    for policy in policies:
        view = policy_view(policy, cases_by_policy.get(policy.id, ()))
        views.append(view)
        texts.setdefault(policy.model.meta.seed, source_text(policy.model))
        html = templates.get_template("policy.html").render(
            **view, version=__version__, index_href="index.html")
        pages.append((out / page_file_name(policy.id), html))
    index = out / "index.html"
    index.write_text(
        templates.get_template("index.html").render(**site_view(views, texts), version=__version__),
        "utf-8")
    written.append(index)
    for path, html in pages:
        path.write_text(html, "utf-8")
        written.append(path)
    return written
