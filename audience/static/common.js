/* Shared by every hub page: device id, safe DOM building, and the reconnecting link to the hub.
   Everything that came from a model or a person is inserted with textContent, never as HTML.
   The pages' own words come from i18n.js (loaded first): t(key, vars) and tx(node, key, vars). */
"use strict";

const Finale = (() => {
  const DEVICE_KEY = "finale.device";

  function randomId(bytes) {
    const raw = new Uint8Array(bytes);
    crypto.getRandomValues(raw);
    return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function deviceId() {
    let id = null;
    try { id = localStorage.getItem(DEVICE_KEY); } catch (e) { id = null; }
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      id = "d" + randomId(12);
      try { localStorage.setItem(DEVICE_KEY, id); } catch (e) { /* private mode: one id per tab */ }
    }
    return id;
  }

  let counter = 0;
  function messageId() {
    counter += 1;
    return Date.now().toString(36) + "-" + counter + "-" + randomId(3);
  }

  /* el("p", {class: "x", "aria-label": "y"}, "text", child) -- strings become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  /* The token of a private link (/judge/<token>): a malformed %-escape must not stop the page's script. */
  function linkToken() {
    const raw = location.pathname.split("/")[2] || "";
    try { return decodeURIComponent(raw); } catch (e) { return raw; }
  }

  /* Data (a name, a prompt, a number) as a node's text: never translated, never HTML. */
  function setText(id, text) {
    const node = document.getElementById(id);
    if (!node) return;
    I18n.untie(node);
    node.textContent = text === null || text === undefined ? "" : String(text);
  }

  /* The page's own words as a node's text: catalogue `key` in the current language, kept translated. */
  function setT(id, key, vars) { return I18n.tx(document.getElementById(id), key, vars); }

  /* What the hub refused, in the reader's language: the catalogue's "error.<code>" when the page is not in
     English, else the hub's own (English) message, which can say more (which field, which limit). */
  function errorText(msg) {
    const key = "error." + msg.code;
    return I18n.lang() !== "en" && I18n.has(key) ? I18n.t(key) : msg.message;
  }

  /* Changes when the round or its answers change, so lists are rebuilt only then (inputs keep focus). */
  function answersKey(state) {
    return state.round + "|" + (state.answers || []).map((a) => a.label + a.status + a.text.length).join(",");
  }

  /* An answer's text as a <p class="text">; a long one is folded to a few lines behind a
     "Show the whole answer" button (aria-expanded), so five answers still fit on a phone. */
  const FOLD_CHARS = 600;
  let folds = 0;
  function answerBody(answer, opts) {
    const failed = !["ok", "streaming"].includes(answer.status);
    const text = failed ? I18n.t("answer.none", { status: I18n.t("status." + answer.status) }) : answer.text;
    const p = el("p", { class: "text" + (failed ? " failed" : "") }, text);
    if (failed) I18n.tx(p, "answer.none", { status: I18n.tx(el("span"), "status." + answer.status) });
    else p.dir = "auto";  // the model's text, shown as written (whatever its language or direction)
    const limit = (opts && opts.fold) || FOLD_CHARS;
    if (failed || text.length <= limit) return [p];
    folds += 1;
    p.id = "answer-text-" + folds;
    p.classList.add("folded");
    const words = text.trim().split(/\s+/).length;
    const more = I18n.tx(el("button", { type: "button", class: "more", "aria-expanded": "false", "aria-controls": p.id }),
      "answer.unfold", { count: words });
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", open ? "true" : "false");
      p.classList.toggle("folded", !open);
      if (open) I18n.tx(more, "answer.fold"); else I18n.tx(more, "answer.unfold", { count: words });
    });
    return [p, more];
  }

  /* "first token 0.20 s", "total 0.50 s", "21 tokens": an answer's timing as short phrases. */
  function timingText(t) {
    const parts = [];
    if (!t) return parts;
    if (t.ttft_ms !== null && t.ttft_ms !== undefined) parts.push(I18n.t("timing.first", { s: I18n.num(t.ttft_ms / 1000, 2) }));
    if (t.total_ms !== null && t.total_ms !== undefined) parts.push(I18n.t("timing.total", { s: I18n.num(t.total_ms / 1000, 2) }));
    if (t.tokens) parts.push(I18n.t("timing.tokens", { count: t.tokens }));
    return parts;
  }

  /* The hub's own English phrases (core.switches: "In place 3", "Leader after round 2"...), matched to the
     catalogue so they read in the page's language; anything else is shown as the hub wrote it. */
  const HUB_PHRASES = [
    [/^In place (\d+)$/, "reveal.inPlace", "place"], [/^And the winner is$/, "reveal.winner"],
    [/^Leader after round (\d+)$/, "reveal.leaderAfter", "round"], [/^Leader so far$/, "reveal.leaderSoFar"],
    [/^Final standings$/, "reveal.final"], [/^Standings after round (\d+)$/, "reveal.standingsAfter", "round"],
    [/^Standings so far$/, "reveal.standingsSoFar"], [/^beat the reference$/, "stage.beatReference"],
    [/^beat the (.+)$/, "stage.beat", "name"],
  ];
  function hubPhrase(node, text) {
    for (const [pattern, key, name] of HUB_PHRASES) {
      const m = pattern.exec(text || "");
      if (m) return I18n.tx(node, key, name ? { [name]: /^\d+$/.test(m[1]) ? Number(m[1]) : m[1] } : undefined);
    }
    I18n.untie(node);
    node.textContent = text || "";
    return node;
  }

  /* "Ray & Mia": names (shown as written) joined the page language's way. */
  function names(list) { return list.join(I18n.t("names.joiner")); }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function formatCountdown(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  /* Text the hub can take: a lone UTF-16 surrogate (half of an emoji cut by a paste or a maxlength)
     becomes U+FFFD, since the hub refuses a frame holding one. */
  function wellFormed(text) {
    return typeof text === "string" ? text.replace(/[\uD800-\uDFFF]/gu, "\uFFFD") : text;
  }
  function frame(msg) { return JSON.stringify(msg, (key, value) => wellFormed(value)); }

  /* The link to the hub: hello on every (re)connect, heartbeat, backoff, server clock offset.
     Only "invalid link" (a private link that is no one's) stops it for good; a rate limit
     ("too many wrong links" from this network, a message flood) is said and retried, slower. */
  const LIMITED_RETRY_MS = 6000;  // at least 3-6 s before trying again
  class Link {
    constructor(options) {
      this.hello = options.hello;             // () => hello message
      this.onMessage = options.onMessage;     // (msg) => void
      this.onStatus = options.onStatus || (() => {});
      this.onOpen = options.onOpen || (() => {});
      this.offset = 0;                        // server clock minus local clock, seconds
      this.attempt = 0;
      this.stopped = false;
      this.ws = null;
      this.lastSeen = 0;
      this.heartbeat = null;
      this.limited = false;                   // the hub refused this connection's hello: rate_limited
      this.welcomed = false;                  // the hub answered this connection's hello with a state
      I18n.ready.then(() => this.connect());  // the first state is drawn in the reader's language
    }

    url() {
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    }

    connect() {
      if (this.stopped) return;
      this.onStatus(this.attempt ? "reconnecting" : "connecting");
      let ws;
      try { ws = new WebSocket(this.url()); } catch (e) { this.retry(); return; }
      this.ws = ws;
      ws.addEventListener("open", () => {
        this.lastSeen = Date.now();
        this.limited = false;
        this.welcomed = false;
        ws.send(frame(this.hello()));
        this.onStatus("connected");
        this.startHeartbeat();
        this.onOpen();
      });
      ws.addEventListener("message", (event) => {
        this.lastSeen = Date.now();
        let msg;
        try { msg = JSON.parse(event.data); } catch (e) { return; }
        if (msg.type === "pong" && typeof msg.t === "number") {
          const now = Date.now() / 1000;
          // a long round trip (the hub was stalled) says little about the clock: keep the last estimate
          if (now - msg.t < 2) this.offset = msg.server_time - (msg.t + now) / 2;
          return;
        }
        if (msg.type === "state" && typeof msg.server_time === "number" && this.offset === 0) {
          this.offset = msg.server_time - Date.now() / 1000;
        }
        if (msg.type === "state") { this.attempt = 0; this.welcomed = true; }  // the next outage backs off afresh
        if (msg.type === "error" && msg.code === "rate_limited" && !this.welcomed) {
          this.limited = true;  // the hello was dropped: say so, and say it again later on a new connection
          this.onStatus("limited");
          ws.close(1000, "rate limited");
        }
        this.onMessage(msg);
      });
      ws.addEventListener("close", (event) => {
        this.stopHeartbeat();
        if (this.ws !== ws) return;
        this.ws = null;
        if (event.code === 1008 && event.reason === "invalid link") {
          this.stopped = true;
          this.onStatus("refused");
          return;
        }
        const limited = this.limited || (event.code === 1008 && /too many|rate limit/.test(event.reason || ""));
        this.retry(limited);
      });
    }

    retry(limited) {
      if (this.stopped) return;
      this.onStatus(limited ? "limited" : "reconnecting");
      const base = Math.max(limited ? LIMITED_RETRY_MS : 0, Math.min(10000, 500 * Math.pow(2, this.attempt)));
      this.attempt += 1;
      setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
    }

    startHeartbeat() {
      this.stopHeartbeat();
      this.heartbeat = setInterval(() => {
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
        if (Date.now() - this.lastSeen > 15000) { this.ws.close(); return; }
        this.ws.send(frame({ type: "ping", t: Date.now() / 1000 }));
      }, 5000);
    }

    stopHeartbeat() {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
    }

    send(msg) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(frame(msg));
      return true;
    }

    serverNow() { return Date.now() / 1000 + this.offset; }
  }

  const STATUS = ["connecting", "connected", "reconnecting", "limited", "refused"];

  function bindStatus(id) {
    return (status) => {
      const node = document.getElementById(id);
      if (!node) return;
      if (STATUS.includes(status)) I18n.tx(node, "link." + status); else { I18n.untie(node); node.textContent = status; }
      node.dataset.status = status;
      document.body.dataset.link = status;
    };
  }

  return { deviceId, messageId, wellFormed, linkToken, el, setText, setT, errorText, clear, answersKey, answerBody, timingText,
           formatCountdown, Link, bindStatus, hubPhrase, names, t: I18n.t, tx: I18n.tx, attr: I18n.attr, num: I18n.num, onLanguage: I18n.onChange };
})();
