"""The site's URLs and the output files behind them: the one place that knows that an
article lives at ``/articles/<slug>/`` in ``articles/<slug>/index.html``."""

from __future__ import annotations

HOME_URL = "/"
WEEKS_URL = "/weeks/"
ENTITIES_URL = "/entities/"
SEARCH_URL = "/search/"
UNDATED_URL = "/undated/"
"""The list of articles whose page gives no date (they belong to no weekly digest)."""
FEED_URL = "/feed.xml"
WEEKS_FEED_URL = "/weeks/feed.xml"
SITEMAP_URL = "/sitemap.xml"
NOT_FOUND_URL = "/404.html"
ROBOTS_URL = "/robots.txt"


def article_url(slug: str) -> str:
    """An article's page."""
    return f"/articles/{slug}/"


def week_url(slug: str) -> str:
    """A weekly digest (``2025-W08``)."""
    return f"/weeks/{slug}/"


def kind_url(kind: str) -> str:
    """The index of the entities of one kind (person, org, place)."""
    return f"{ENTITIES_URL}{kind}/"


def entity_url(kind: str, slug: str) -> str:
    """An entity's page."""
    return f"{ENTITIES_URL}{kind}/{slug}/"


def entity_year_url(entity_page: str, year: int | None) -> str:
    """The page listing an entity's articles of one year (``None``: those with no date),
    under the entity's page ``entity_page``."""
    return f"{entity_page}{year}/" if year is not None else f"{entity_page}undated/"


def feed_of(page_url: str) -> str:
    """The Atom feed beside a page (an entity's)."""
    return f"{page_url}feed.xml"


def relpath_of(url: str) -> str:
    """The output file of a URL path: ``/a/`` → ``a/index.html``, ``/feed.xml`` → ``feed.xml``."""
    path = url.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def url_of(relpath: str) -> str:
    """The URL path a browser shows for an output file (the inverse of :func:`relpath_of`)."""
    return "/" + (relpath[: -len("index.html")] if relpath == "index.html" or relpath.endswith("/index.html") else relpath)
