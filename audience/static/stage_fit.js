/* The stage's fit: one 1920x1080 canvas scaled to the window, answer cards that grow into the free space
   with the largest font that fits (never below 28 canvas px, readable from the back of a room at 1080p),
   and a card that still does not fit pages through its text, whole lines at a time, with "1/3" on it.
   Nothing is ever silently cut: every text the stage holds is on screen or on one of its pages. */
"use strict";

const StageFit = (() => {
  const W = 1920;
  const H = 1080;
  const FLOOR = 28;
  const MAX = 52;
  const SPOT_MAX = 72;
  const PAGE_MS = 7000;

  function scaleCanvas() {
    const canvas = document.getElementById("canvas");
    if (!canvas) return;
    const s = Math.min(window.innerWidth / W, window.innerHeight / H);
    const x = (window.innerWidth - W * s) / 2;
    const y = (window.innerHeight - H * s) / 2;
    canvas.style.transform = "translate(" + x + "px, " + y + "px) scale(" + s + ")";
  }

  function fits(node) { return node.scrollHeight <= node.clientHeight + 1; }

  /* The largest whole px size in [lo, hi] for which `ok(size)` holds (it holds for smaller ones), else 0. */
  function largest(lo, hi, ok) {
    if (!ok(lo)) return 0;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (ok(mid)) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function unpage(text) {
    text.style.height = "";
    text.style.flex = "";
    text.scrollTop = 0;
    delete text.dataset.pages;
    delete text.dataset.page;
  }

  /* Whole lines per page: the text box is cut to a number of lines, and the pager says where we are. */
  function paginate(text, pager) {
    const line = parseFloat(getComputedStyle(text).lineHeight) || FLOOR * 1.3;
    const lines = Math.max(1, Math.floor(text.clientHeight / line));
    const page = lines * line;
    text.style.flex = "none";
    text.style.height = page + "px";
    const pages = Math.max(1, Math.ceil((text.scrollHeight - 1) / page));
    if (pages < 2) { unpage(text); if (pager) pager.textContent = ""; return; }
    text.dataset.pages = String(pages);
    text.dataset.page = "0";
    text.dataset.pageHeight = String(page);
    if (pager) pager.textContent = "1/" + pages;
  }

  /* With one cell to spare (5 answers in 3 columns), the longest answer takes the last column's two rows. */
  function spanLongest(list, cols) {
    const cards = [...list.children];
    for (const card of cards) { card.style.gridRow = ""; card.style.gridColumn = ""; }
    list.style.gridAutoFlow = "";
    const rows = Math.ceil(cards.length / cols);
    if (cols < 2 || rows < 2 || rows * cols - cards.length !== 1) return;
    const longest = cards.reduce((a, b) => (b.textContent.length > a.textContent.length ? b : a));
    longest.style.gridColumn = String(cols);
    longest.style.gridRow = (rows - 1) + " / span 2";
    list.style.gridAutoFlow = "row dense";
  }

  function layout(list, cols, size, rows) {
    spanLongest(list, cols);
    list.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
    list.style.gridTemplateRows = rows || "";
    list.style.gridAutoRows = rows ? "" : "max-content";
    list.style.alignContent = "start";
    list.style.fontSize = size + "px";
  }

  function candidates(n) {
    const out = [];
    for (let cols = Math.min(n, 3); cols >= 1; cols -= 1) out.push(cols);
    if (n === 4) out.unshift(2);
    return [...new Set(out)];
  }

  /* The height of each grid row as laid out now (a card spanning two rows is left to the others). */
  function rowHeights(list, cards) {
    const tops = [...new Set(cards.filter((c) => !c.style.gridRow).map((c) => c.offsetTop))].sort((a, b) => a - b);
    const rows = tops.map(() => 0);
    for (const card of cards) {
      if (!card.style.gridRow) rows[tops.indexOf(card.offsetTop)] = Math.max(rows[tops.indexOf(card.offsetTop)], card.offsetHeight);
    }
    return rows;
  }

  /* Share the list's height among rows: a row that needs less keeps its natural height, the rest share. */
  function shareRows(list, cards) {
    const gap = parseFloat(getComputedStyle(list).rowGap) || 0;
    const natural = rowHeights(list, cards);
    let room = list.clientHeight - gap * (natural.length - 1);
    const heights = new Array(natural.length);
    const order = natural.map((h, i) => i).sort((a, b) => natural[a] - natural[b]);
    order.forEach((r, k) => {
      const fair = room / (order.length - k);
      heights[r] = Math.floor(Math.min(natural[r], fair));
      room -= heights[r];
    });
    return heights.map((h) => h + "px").join(" ");
  }

  /* The answer cards: the layout (columns) and the one font size that fit every answer whole; else 28 px,
     rows shared by need, and the cards that still overflow page through their text. */
  function fitAnswers(list) {
    const cards = [...list.children];
    for (const card of cards) unpage(card.querySelector(".text"));
    list.dataset.fitted = "yes";  // for the tests: the fit has run on these cards
    if (!cards.length) return;
    let best = null;
    for (const cols of candidates(cards.length)) {
      const size = largest(FLOOR, MAX, (s) => { layout(list, cols, s); return fits(list); });
      if (!best || size > best.size) best = { cols, size };
    }
    if (best.size > 0) {  // whole answers, the rows growing into the free space
      layout(list, best.cols, best.size);
      const rows = rowHeights(list, cards);
      const gap = parseFloat(getComputedStyle(list).rowGap) || 0;
      const free = list.clientHeight - gap * (rows.length - 1) - rows.reduce((a, b) => a + b, 0);
      const grown = rows.map((h) => Math.floor(h + Math.max(0, free) / rows.length) + "px").join(" ");
      layout(list, best.cols, best.size, grown);
      if (!fits(list)) layout(list, best.cols, best.size);
      return;
    }
    let least = null;  // the layout where the fewest cards page (then the least text off screen)
    for (const cols of candidates(cards.length)) {
      const rows = atFloor(list, cards, cols);
      const over = cards.map((c) => c.querySelector(".text")).filter((t) => !fits(t));
      const hidden = over.reduce((sum, t) => sum + t.scrollHeight - t.clientHeight, 0);
      if (!least || over.length < least.paged || (over.length === least.paged && hidden < least.hidden)) {
        least = { cols, rows, paged: over.length, hidden };
      }
    }
    layout(list, least.cols, FLOOR, least.rows);
    for (const card of cards) {
      const text = card.querySelector(".text");
      if (!fits(text)) paginate(text, card.querySelector(".pager"));
    }
  }

  /* The rows of `cols` columns at the floor size, shared by need; returns the grid-template-rows used. */
  function atFloor(list, cards, cols) {
    layout(list, cols, FLOOR);
    const rows = shareRows(list, cards);
    layout(list, cols, FLOOR, rows);
    return rows;
  }

  /* One answer over the whole canvas: the largest size up to 72 px, else 28 px and pages. */
  function fitSpotlight(text, pager) {
    unpage(text);
    pager.textContent = "";
    const size = largest(FLOOR, SPOT_MAX, (s) => { text.style.fontSize = s + "px"; return fits(text); });
    text.style.fontSize = (size || FLOOR) + "px";
    if (!size) paginate(text, pager);
  }

  function turnPages() {
    for (const text of document.querySelectorAll(".text[data-pages]")) {
      const pages = Number(text.dataset.pages);
      const page = (Number(text.dataset.page) + 1) % pages;
      text.dataset.page = String(page);
      text.scrollTop = page * Number(text.dataset.pageHeight);
      const pager = text.parentElement.querySelector(".pager");
      if (pager) pager.textContent = (page + 1) + "/" + pages;
    }
  }

  window.addEventListener("resize", scaleCanvas);
  document.addEventListener("DOMContentLoaded", scaleCanvas);
  setInterval(turnPages, PAGE_MS);
  scaleCanvas();
  return { FLOOR, scaleCanvas, fitAnswers, fitSpotlight };
})();
