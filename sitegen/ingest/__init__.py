"""Ingest: raw scraped documents → clean Markdown pages in ``content/``.

Stages: :mod:`.readers` (discover, decode, parse formats) → :mod:`.clean` (ordered rules)
→ :mod:`.split` (items) → :mod:`.titles` / :mod:`.dates` → :mod:`.pages` (write, never
overwriting an editor's change).
"""
