"""Shared test helpers: models built in Python, the site builder, the golden-file harness,
the Chrome DevTools client and the link checker."""
