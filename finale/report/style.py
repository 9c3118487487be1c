"""The report's stylesheet, inlined into the page (no external fonts or files)."""

from __future__ import annotations

from finale.report.charts import TOTAL_COLOUR, TTFT_COLOUR

CSS = f"""
:root {{ color-scheme: light; }}
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1.5rem; color: #1d1d1f; background: #fff; line-height: 1.4; }}
h1 {{ margin: 0 0 .3rem; font-size: 1.7rem; }}
h2 {{ border-bottom: 2px solid #e4e4e7; padding-bottom: .2rem; margin-top: 2.2rem; }}
h3 {{ margin: 1.2rem 0 .4rem; }}
h4 {{ margin: 0 0 .3rem; }}
h5 {{ margin: .6rem 0 .2rem; font-size: .9rem; }}
nav a {{ margin-right: .2rem; }}
a {{ color: #2b6ca3; }}
.muted {{ color: #5f6368; font-size: .9rem; }}
.warn {{ color: #9a3412; background: #fff7ed; padding: .2rem .4rem; border-radius: 4px; }}
.ovr {{ color: #9a3412; font-weight: 600; cursor: help; }}
table.grid {{ border-collapse: collapse; margin: .3rem 0 .6rem; font-size: .9rem; }}
table.grid th, table.grid td {{ border: 1px solid #e4e4e7; padding: .25rem .5rem; text-align: left;
                                 vertical-align: top; }}
table.grid th {{ background: #f4f4f5; }}
table.grid td.num, table.grid th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
table.small {{ font-size: .82rem; }}
table.standings {{ font-size: 1rem; }}
.prompt {{ font-size: 1.1rem; font-weight: 600; white-space: pre-wrap; overflow-wrap: anywhere; }}
dl.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; font-size: .9rem; }}
dl.facts dt {{ font-weight: 600; }}
dl.facts dd {{ margin: 0; }}
article.answer {{ border: 1px solid #e4e4e7; border-radius: 6px; padding: .7rem .9rem; margin: .7rem 0; }}
article.reference {{ background: #fafafa; }}
.answer-text {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #f8fafc; border-left: 3px solid #cbd5e1;
                padding: .4rem .6rem; font-family: ui-monospace, monospace; font-size: .88rem; }}
blockquote.rationale {{ margin: .3rem 0; padding: .3rem .6rem; border-left: 3px solid #4e79a7;
                        background: #f5f8fc; white-space: pre-wrap; overflow-wrap: anywhere; }}
.verdicts {{ display: flex; flex-wrap: wrap; gap: 0 1.5rem; }}
.verdicts > div {{ flex: 1 1 320px; min-width: 0; }}
figure {{ margin: .4rem 0 1rem; }}
figcaption {{ color: #5f6368; font-size: .85rem; }}
.charts {{ display: flex; flex-wrap: wrap; gap: .8rem; }}
svg.chart {{ background: #fff; border: 1px solid #eee; border-radius: 4px; max-width: 100%; height: auto; }}
.swatch {{ display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; }}
.swatch.ttft {{ background: {TTFT_COLOUR}; }}
.swatch.total {{ background: {TOTAL_COLOUR}; }}
table.audit td:nth-child(2) {{ white-space: nowrap; }}
table.audit td:nth-child(6) {{ overflow-wrap: anywhere; }}
@media print {{ body {{ max-width: none; }} article.answer, svg.chart {{ break-inside: avoid; }} }}
"""
