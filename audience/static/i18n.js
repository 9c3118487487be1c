/* The pages' own words, in the reader's language. Loaded before common.js on every page.

   The hub serves /i18n/index.json (the languages it ships, the stage's language from the event file) and
   /i18n/<code>.json (that language's catalogue, the event file's overrides merged in). The language is the
   one picked with the page's switch (kept in localStorage), else the browser's (navigator.languages), else
   English; the stage takes the event file's [pages] stage_language before the browser's.
   Static HTML is marked data-i18n="key" (its text) and data-i18n-<attr>="key" (aria-label, alt, title,
   placeholder); scripts call t(key, vars) for a string or tx(node, key, vars) to set a node's text and keep
   it translated when the language changes. Model answers, questions and names are never passed through
   here: they are shown as written. */
"use strict";

const I18n = (() => {
  const ATTRS = ["aria-label", "alt", "title", "placeholder"];
  const stage = document.body.classList.contains("stage");
  const KEY = stage ? "finale.language.stage" : "finale.language";
  let lang = "en";
  let strings = {};
  let languages = [];
  const bound = new WeakMap();  // node -> {text: vars, attr: {name: [key, vars]}}
  const listeners = [];

  function plural(value, vars) {
    if (typeof value === "string") return value;
    const count = vars && typeof vars.count === "number" ? vars.count : 0;
    let form = "other";
    try { form = new Intl.PluralRules(lang).select(count); } catch (e) { form = "other"; }
    if (count === 0 && value.zero !== undefined) form = "zero";
    return value[form] !== undefined ? value[form] : value.other;
  }

  function show(value) {
    if (typeof value === "number") {
      try { return new Intl.NumberFormat(lang).format(value); } catch (e) { return String(value); }
    }
    return value === null || value === undefined ? "" : value;
  }

  /* The template of `key` split at its {placeholders}: strings, and the vars' values (text or nodes). */
  function parts(key, vars) {
    const template = strings[key] === undefined ? key : plural(strings[key], vars);
    const out = [];
    let last = 0;
    template.replace(/\{(\w+)\}/g, (match, name, at) => {
      out.push(template.slice(last, at));
      out.push(vars && name in vars ? show(vars[name]) : match);
      last = at + match.length;
      return match;
    });
    out.push(template.slice(last));
    return out.filter((p) => p !== "");
  }

  /* t("phone.voteFor", {label: "B"}) -> "Vote for answer B": one string in the current language. */
  function t(key, vars) {
    return parts(key, vars).map((p) => (typeof p === "string" ? p : p.textContent)).join("");
  }

  function has(key) { return strings[key] !== undefined; }

  function fill(node, key, vars) {
    while (node.firstChild) node.removeChild(node.firstChild);
    for (const p of parts(key, vars)) node.append(typeof p === "string" ? document.createTextNode(p) : p);
  }

  /* Set a node's text to `key` (vars may hold nodes, e.g. a <strong> name) and keep it translated. */
  function tx(node, key, vars) {
    if (!node) return node;
    node.setAttribute("data-i18n", key);
    const b = bound.get(node) || { attr: {} };
    b.text = vars;
    bound.set(node, b);
    fill(node, key, vars);
    return node;
  }

  /* Set an attribute (aria-label, title...) to `key` and keep it translated. */
  function attr(node, name, key, vars) {
    node.setAttribute("data-i18n-" + name, key);
    const b = bound.get(node) || { attr: {} };
    b.attr[name] = vars;
    bound.set(node, b);
    node.setAttribute(name, t(key, vars));
    return node;
  }

  /* Forget a node's key: what it shows now is data (setText in common.js calls this). */
  function untie(node) {
    if (node && node.hasAttribute("data-i18n")) node.removeAttribute("data-i18n");
  }

  function translate(root) {
    for (const node of root.querySelectorAll("[data-i18n]")) {
      const b = bound.get(node);
      fill(node, node.getAttribute("data-i18n"), b && b.text);
    }
    for (const name of ATTRS) {
      for (const node of root.querySelectorAll("[data-i18n-" + name + "]")) {
        const b = bound.get(node);
        node.setAttribute(name, t(node.getAttribute("data-i18n-" + name), b && b.attr[name]));
      }
    }
  }

  /* The shipped language for a BCP 47 tag: exact, then same script (zh-CN -> zh-Hans), then same language. */
  function match(tag, codes) {
    if (!tag) return null;
    const want = String(tag).toLowerCase();
    const exact = codes.find((c) => c.toLowerCase() === want);
    if (exact) return exact;
    const base = want.split("-")[0];
    const hans = /^zh(-hans|-cn|-sg|-my)?(-|$)/.test(want) || want === "zh";
    const hant = /^zh-(hant|tw|hk|mo)(-|$)/.test(want);
    if (base === "zh") {
      const script = codes.find((c) => c.toLowerCase() === (hant ? "zh-hant" : "zh-hans"));
      if (script) return script;
      if (!hans && !hant) return null;
    }
    return codes.find((c) => c.toLowerCase().split("-")[0] === base) || null;
  }

  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function choose(index) {
    const codes = index.languages.map((l) => l.code);
    const wanted = [stored(), stage ? index.stage_language : null, ...(navigator.languages || []), navigator.language];
    for (const tag of wanted) {
      const code = match(tag, codes);
      if (code) return code;
    }
    return index.default || "en";
  }

  async function getJson(path) {
    const response = await fetch(path, { cache: "no-cache" });
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  async function use(code) {
    strings = await getJson("/i18n/" + encodeURIComponent(code) + ".json");
    lang = code;
    document.documentElement.lang = code;
    translate(document);
    const select = document.getElementById("language");
    if (select) select.value = code;
    for (const fn of listeners) fn(code);
  }

  /* The switch: <select id="language"> in each page's header, filled with each language's own name. */
  function bindSwitch() {
    const select = document.getElementById("language");
    if (!select) return;
    while (select.firstChild) select.removeChild(select.firstChild);
    for (const l of languages) {
      const option = document.createElement("option");
      option.value = l.code;
      option.lang = l.code;
      option.textContent = l.name;
      select.append(option);
    }
    select.value = lang;
    select.addEventListener("change", () => {
      try { localStorage.setItem(KEY, select.value); } catch (e) { /* this page only */ }
      use(select.value).catch(() => { select.value = lang; });
    });
  }

  const ready = (async () => {
    try {
      const index = await getJson("/i18n/index.json");
      languages = index.languages;
      await use(choose(index));
      bindSwitch();
    } catch (e) {
      translate(document);  // no catalogue: the keys show, and the page still works
    }
  })();

  return {
    t, tx, attr, untie, has, ready, translate, match,
    lang: () => lang,
    onChange: (fn) => listeners.push(fn),
    /* 12.5 -> "12.5" (en), "12,5" (de): a number with `digits` decimals in the current language. */
    num: (value, digits) => {
      try {
        return new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
      } catch (e) { return value.toFixed(digits); }
    },
  };
})();
