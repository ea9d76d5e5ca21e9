"""Site configuration: ``sitegen.yaml`` at the site root (every key optional)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from sitegen.errors import ContentError

CONFIG_FILE = "sitegen.yaml"


@dataclass(frozen=True)
class SiteConfig:
    """Settings of one site; defaults suit a Chinese news digest."""

    title: str = "新闻要闻回顾"
    description: str = "每周要闻回顾：文章、人物、机构与地点。"
    base_url: str = "http://127.0.0.1:8000/"
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    digest_size: int = 10
    """Numbered items in a weekly digest; the rest are listed briefly under 本周其他."""
    entity_min_articles: int = 1
    """An entity needs this many articles to get a page."""
    home_recent: int = 12
    feed_size: int = 30
    summary_chars: int = 110
    related_articles: int = 5

    def with_base_url(self, base_url: str | None) -> "SiteConfig":
        """A copy whose base URL is ``base_url`` (normalised to end in ``/``)."""
        if not base_url:
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["base_url"] = base_url.rstrip("/") + "/"
        return SiteConfig(**values)


def load_config(root: Path) -> SiteConfig:
    """Read ``root/sitegen.yaml``; unknown keys and wrong types are content errors."""
    path = root / CONFIG_FILE
    if not path.exists():
        return SiteConfig()
    try:
        data: Any = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(f"malformed YAML: {getattr(exc, 'problem', exc)}", path, mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ContentError("the configuration must be a mapping", path, 1)
    known = {f.name: f for f in fields(SiteConfig)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ContentError(f"unknown setting '{key}' (known: {', '.join(sorted(known))})", path)
        default = getattr(SiteConfig(), key)
        if not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(default, bool):
            raise ContentError(f"setting '{key}' must be a {type(default).__name__}", path)
        values[key] = value
    config = SiteConfig(**values)
    return config.with_base_url(config.base_url)
