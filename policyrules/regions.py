"""The shipped table of region codes (policyrules/data/regions.yaml) and what a policy's
region covers: a county covers itself, a city covers itself and every county under it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import attrs
import yaml

__all__ = ["Region", "RegionTable", "region_table"]


@attrs.frozen
class Region:
    code: str
    name: str
    parent: str | None


@attrs.frozen
class RegionTable:
    regions: dict[str, Region]
    as_of: str
    source: str

    def covered_counties(self, code: str) -> frozenset[str]:
        """The codes a policy for ``code`` applies to: itself and its descendants."""
        found = {code}
        changed = True
        while changed:
            changed = False
            for region in self.regions.values():
                if region.parent in found and region.code not in found:
                    found.add(region.code)
                    changed = True
        return frozenset(found)

    def name(self, code: str) -> str:
        region = self.regions.get(code)
        return region.name if region else code


@lru_cache(maxsize=1)
def region_table() -> RegionTable:
    text = (Path(__file__).parent / "data" / "regions.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    regions = {
        str(code): Region(str(code), str(entry["name"]), entry.get("parent"))
        for code, entry in raw["regions"].items()
    }
    return RegionTable(regions, str(raw["as_of"]), str(raw["source"]))
