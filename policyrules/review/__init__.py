"""The review page: a policy's code held against the notice it came from (issue 13).

    >>> from policyrules.review import render_policy        # needs jinja2: pip install "policyrules[review]"
    >>> html = render_policy(policy, cases)                  # one self-contained page

`render_site` writes an index and one page per policy. What a page shows and how the share
of the notice accounted for is computed: docs/review.md. The pure parts (quotes located in
the notice, `policyrules.review.spans`; the page's data, `policyrules.review.view`) need
no template engine; `policyrules.words` says conditions in words.
"""

from .render import render_policy, render_site

__all__ = ["render_policy", "render_site"]
