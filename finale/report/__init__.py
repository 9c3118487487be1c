"""`finale report`: the post-show report as one self-contained HTML file.

Reads only the store, scores through the core, renders with inline CSS and
server-side SVG; no script, no network, no secrets.
"""

from finale.report.build import build_report

__all__ = ["build_report"]
