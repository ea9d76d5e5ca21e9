"""``python -m sitegen.search SITE BUNDLE``: index a built site into BUNDLE, a new folder.

``serve`` runs this in a separate, low-priority process that may be killed at any moment;
it writes nothing but BUNDLE (in the folder serve removes) and prints the summary line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sitegen.search import index_site, searchable_pages


def main(argv: list[str] | None = None) -> int:
    """Index SITE into BUNDLE; 2 on a usage error."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m sitegen.search SITE_DIR BUNDLE_DIR", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)
    bundle = index_site(searchable_pages(Path(args[0])))
    for relpath, data in bundle.files.items():
        target = Path(args[1]) / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(bundle.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
