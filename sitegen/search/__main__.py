"""``python -m sitegen.search SITE BUNDLE [ALIASES]``: index a built site into BUNDLE, a new folder.

``serve`` runs this in a separate, low-priority process that may be killed at any moment;
it writes nothing but BUNDLE (in the folder serve removes) and prints the summary line.
ALIASES is a JSON file of the entity data's ``alias -> canonical name`` map."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from sitegen.search import index_site, searchable_pages
from sitegen.search.aliases import NO_ALIASES, AliasExpander


def main(argv: list[str] | None = None) -> int:
    """Index SITE into BUNDLE; 2 on a usage error."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print("usage: python -m sitegen.search SITE_DIR BUNDLE_DIR [ALIASES_JSON]", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)
    aliases = AliasExpander.from_aliases(json.loads(Path(args[2]).read_text("utf-8"))) if len(args) == 3 else NO_ALIASES
    bundle = index_site(searchable_pages(Path(args[0])), aliases=aliases)
    for relpath, data in bundle.files.items():
        target = Path(args[1]) / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(bundle.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
