"""Site configuration: ``sitegen.yaml`` at the site root (every key optional, each checked)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sitegen.errors import ContentError, UsageError
from sitegen.files import read_text_file
from sitegen.text import CONTROL_CHARS
from sitegen.yamldoc import load_mapping

CONFIG_FILE = "sitegen.yaml"
CACHE_DIR = ".sitegen-cache"
"""Where a site keeps what makes its next build faster (parsed pages, entities, shards)."""
_BASE_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s\"'<>\\]*)?$")


@dataclass(frozen=True)
class SiteConfig:
    """Settings of one site; defaults suit a Chinese news digest."""

    title: str = "新闻要闻回顾"
    description: str = "每周要闻回顾：文章、人物、机构与地点。"
    base_url: str = "http://127.0.0.1:8000/"
    language: str = "zh-CN"
    digest_size: int = 10
    """Numbered items in a weekly digest; the rest are listed briefly under 本周其他."""
    entity_min_articles: int = 1
    """An entity needs this many articles to get a page."""
    entity_recent: int = 50
    """Articles an entity's page lists (its newest); when it has more, every article is
    listed on pages by year (``/entities/person/<slug>/2025/``)."""
    home_recent: int = 12
    feed_size: int = 30
    summary_chars: int = 110
    related_articles: int = 5

    def with_base_url(self, base_url: str | None) -> SiteConfig:
        """A copy whose base URL is ``base_url`` (normalised to end in ``/``)."""
        if not base_url:
            return self
        return replace(self, base_url=base_url.rstrip("/") + "/")


RANGES: dict[str, tuple[int, int]] = {
    "digest_size": (1, 100), "entity_min_articles": (1, 1_000_000),
    "entity_recent": (1, 1_000_000), "home_recent": (1, 1000),
    "feed_size": (1, 1000), "summary_chars": (20, 2000), "related_articles": (0, 50),
}
"""The values a whole-number setting may take."""


def check_base_url(value: str) -> str | None:
    """Why ``value`` cannot be a site's base URL, or None when it can (an http(s) URL)."""
    if not _BASE_URL.match(value):
        return "must be an absolute http:// or https:// URL, such as https://example.org/"
    return None


def load_config(root: Path) -> SiteConfig:
    """Read ``root/sitegen.yaml``; unknown keys and wrong types or values are content errors
    naming the file and line."""
    path = root / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        return SiteConfig()
    loaded = load_mapping(read_text_file(path, 1024 * 1024), path, "setting")
    known = {f.name: f for f in fields(SiteConfig)}
    values: dict[str, Any] = {}
    for key, value in loaded.data.items():
        line = loaded.line_of(key)
        if key not in known:
            raise ContentError(f"unknown setting '{key}' (known: {', '.join(sorted(known))})", path, line)
        default = getattr(SiteConfig(), key)
        if not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(default, bool):
            raise ContentError(f"setting '{key}' must be a {type(default).__name__}", path, line)
        if isinstance(value, str):
            if CONTROL_CHARS.search(value):
                raise ContentError(f"setting '{key}' holds a control character", path, line)
            if key == "title" and not value.strip():
                raise ContentError("setting 'title' must not be empty", path, line)
        if key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
            low, high = RANGES[key]
            raise ContentError(f"setting '{key}' must be between {low:,} and {high:,}, not {value:,}", path, line)
        if key == "base_url" and (problem := check_base_url(value)):
            raise ContentError(f"setting 'base_url' {problem}", path, line)
        values[key] = value
    config = SiteConfig(**values)
    return config.with_base_url(config.base_url)


def require_site(root: Path) -> None:
    """Refuse a folder that is not a site (a site has a ``content/`` folder), saying how to start one."""
    if not (root / "content").is_dir():
        raise UsageError(f"{root.resolve()} is not a sitegen site: it has no content/ folder (run sitegen in a site's "
                         "folder or pass --root; `sitegen new DIR` starts a site)")
