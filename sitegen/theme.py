"""The theme: where a site's templates and static files come from.

sitegen ships a default theme inside the package (the repository's top-level ``templates/``
and ``static/``, mapped to ``sitegen/_theme/`` by ``pyproject.toml``). A site's own
``templates/`` and ``static/`` override it file by file: a template or static file is looked
up in the site first, then in the theme (MkDocs' ``custom_dir``, Hugo's lookup order). A site
that overrides nothing needs neither folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import UsageError

PACKAGED_THEME = Path(__file__).resolve().parent / "_theme"
"""The default theme in an installed wheel."""
SOURCE_THEME = Path(__file__).resolve().parent.parent
"""The default theme in a source checkout (an editable install): the top-level folders."""


def default_theme() -> Path:
    """The folder holding the default theme's ``templates/`` and ``static/``."""
    for folder in (PACKAGED_THEME, SOURCE_THEME):
        if (folder / "templates" / "base.html").is_file():
            return folder
    raise UsageError(f"sitegen's default theme is missing from {PACKAGED_THEME} (reinstall sitegen)")


@dataclass(frozen=True)
class ThemeFolders:
    """The folders a site's templates and static files are looked up in, first match wins."""

    templates: tuple[Path, ...]
    static: tuple[Path, ...]

    @property
    def all(self) -> tuple[Path, ...]:
        """Every folder, for watching and for the build's signature."""
        return self.templates + self.static


def theme_folders(root: Path) -> ThemeFolders:
    """The lookup folders of the site at ``root``: its own (when it has them), then the theme's."""
    theme = default_theme()

    def lookup(name: str) -> tuple[Path, ...]:
        own, inherited = root / name, theme / name
        if not own.is_dir():
            return (inherited,)
        if own.resolve() == inherited.resolve():  # the repository's sample site is the theme's own
            return (own,)
        return (own, inherited)

    return ThemeFolders(lookup("templates"), lookup("static"))
