"""The site build, as stages over typed records (see :mod:`sitegen.site.build`)."""
