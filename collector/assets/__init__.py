"""Collector-side copies of the stylesheets, fonts and images recordings load, so a replay shows
the page as recorded after the site changed, and on sites whose files other origins cannot read.

refs.py finds the URLs in recordings and points them at copies; fetch.py fetches one, guarded;
service.py is the background copier; route.py serves a copy. docs/replay.md describes it.
"""
