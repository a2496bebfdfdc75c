"""Where the shipped policies are: inside the installed package (a wheel carries them as
``policyrules/policies``) or, in a checkout, the repository's ``policies/`` folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["shipped_policies_dir"]

_PACKAGE = Path(__file__).parent


def shipped_policies_dir() -> Path:
    """The folder of the policies shipped with the package (with its catalogs/, sources/, cases/)."""
    inside = _PACKAGE / "policies"
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / "policies"
