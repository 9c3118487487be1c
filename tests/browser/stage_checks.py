"""What the stage tests measure in the page: text cut without a way to it, font sizes, contrast over video.

Each check is one JavaScript function run in the page (Playwright's `evaluate`) that returns what is
wrong as a list, so a failing test names the element and the numbers.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# Every element that hides overflow and holds more than it shows must be paged (data-pages, with a
# pager saying "k/N" and N pages covering it all); the canvas itself must hold everything.
CUT_TEXT = """() => {
  const bad = [];
  const shown = (n) => !n.closest('[hidden]') && getComputedStyle(n).display !== 'none';
  for (const node of [document.getElementById('canvas'), ...document.querySelectorAll('#canvas *')]) {
    if (!shown(node)) continue;
    const cs = getComputedStyle(node);
    const hides = ['hidden', 'clip'].includes(cs.overflowY) || ['hidden', 'clip'].includes(cs.overflowX);
    if (!hides) continue;
    const tall = node.scrollHeight > node.clientHeight + 1;
    const wide = node.scrollWidth > node.clientWidth + 1;
    if (!tall && !wide) continue;
    const pages = Number(node.dataset.pages || 0);
    const pageHeight = Number(node.dataset.pageHeight || 0);
    const pager = node.parentElement && node.parentElement.querySelector('.pager');
    const paged = pages > 1 && pages * pageHeight >= node.scrollHeight - 1 && !wide
      && pager && shown(pager) && pager.textContent.endsWith('/' + pages);
    if (!paged) bad.push({ node: node.tagName + '#' + node.id + '.' + node.className,
      label: node.closest('[data-label]') ? node.closest('[data-label]').dataset.label : null,
      scrollHeight: node.scrollHeight, clientHeight: node.clientHeight,
      scrollWidth: node.scrollWidth, clientWidth: node.clientWidth, pages });
  }
  return bad;
}"""

# The answer texts' font sizes in canvas px, and any visible text smaller than `floor`.
FONT_SIZES = """(floor) => {
  const sizes = [...document.querySelectorAll('#answers .text')].map((n) => parseFloat(getComputedStyle(n).fontSize));
  const small = [];
  const walker = document.createTreeWalker(document.getElementById('canvas'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || el.closest('[hidden]') || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < floor) small.push({ text: walker.currentNode.textContent.trim().slice(0, 40), size });
  }
  return { sizes, small };
}"""

# Contrast of every visible text element against what is behind it: its ancestors' backgrounds
# composited over `base` (the video: white or black), opacity included; WCAG relative luminance.
CONTRAST = """([base, scope]) => {
  const parse = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map((i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat([a]);
  };
  const channel = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const out = [];
  const root = document.querySelector(scope);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (seen.has(el) || !walker.currentNode.textContent.trim() || el.closest('[hidden]')) continue;
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    seen.add(el);
    const chain = [];
    for (let n = el; n; n = n.parentElement) chain.unshift(n);
    let bg = parse(base);
    let opacity = 1;
    for (const n of chain) {
      const cs = getComputedStyle(n);
      opacity *= parseFloat(cs.opacity);
      const c = parse(cs.backgroundColor);
      bg = over([c[0], c[1], c[2], c[3] * opacity], bg);
    }
    const fg = parse(getComputedStyle(el).color);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a);
    out.push({ text: walker.currentNode.textContent.trim().slice(0, 40), tag: el.tagName, id: el.id,
               cls: el.className, ratio: (hi + 0.05) / (lo + 0.05) });
  }
  return out;
}"""


def cut_text(page: Page) -> list[dict[str, Any]]:
    """Elements that hide text without a way to it (see CUT_TEXT)."""
    return list(page.evaluate(CUT_TEXT))


def font_sizes(page: Page, floor: float) -> dict[str, Any]:
    return dict(page.evaluate(FONT_SIZES, floor))


def contrasts(page: Page, base: str, scope: str = "#canvas") -> list[dict[str, Any]]:
    """Every visible text element under `scope` with its contrast ratio over a `base` background."""
    return list(page.evaluate(CONTRAST, [base, scope]))


def wait_fitted(page: Page, count: int) -> None:
    """Wait until the stage shows `count` answer cards and has fitted them."""
    page.wait_for_function(
        "(n) => { const l = document.getElementById('answers');"
        " return l.children.length === n && l.dataset.fitted === 'yes'; }", arg=count, timeout=10_000)
    page.wait_for_timeout(400)  # a second fit (after the throttle) settles before measuring
