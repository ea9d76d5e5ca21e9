"""sitegen: a static site generator for Chinese news digests."""

__version__ = "0.1.0"
