"""Shared by the build hooks: put generated pages in the nav beside their index page."""

from __future__ import annotations

from typing import Any


def under_index(config: Any, index: str, entries: list[dict[str, str]], fallback: str) -> Any:
    """`entries` after `index` in the nav section that lists `index`, else a new section
    named `fallback`; a config with no nav (mkdocs lists every page) is left alone."""
    nav = config.get("nav")
    if nav is None:
        return config
    for item in nav:
        if isinstance(item, dict):
            for title, section in item.items():
                if isinstance(section, list) and index in section:
                    item[title] = [index, *entries]
                    return config
    nav.append({fallback: [index, *entries]})
    return config
