/* Questions from the floor, on the phone and on the stage (loaded after common.js, before the page's script).

   Phone: while the MC has questions open, a labelled form sends a question (`question` {text}) and each
   approved question has an upvote button (`upvote` {question_id}); what the hub refuses is said in a
   polite live region with its code (data-code). The phone keeps the ids of its own questions (never their
   text) to say "waiting for the moderator", "on the board" or "not selected": a rejected question is
   never shown anywhere, this phone included.
   Stage: the approved questions (starred first) while questions are open.
   Both: "A question from the audience" over a round asked from one (state.source).
   Questions are people's text: textContent and dir="auto" only, never translated. The page's script hands
   every hub message to FinaleQuestions.handle(msg, link); it returns true for the acks and errors of the
   frames sent from here, which the page then leaves alone. */
"use strict";

const FinaleQuestions = (() => {
  const { el, tx, clear } = Finale;
  const stage = document.body.classList.contains("stage");
  const MINE_KEY = "finale.myQuestions";     // [{id}] of this phone's questions (ids only)
  const UPVOTED_KEY = "finale.myUpvotes";    // [question id]
  const sent = new Map();                    // message id -> "question" | {upvote: question id}
  let link = null;
  const EMPTY = { open: false, items: [], declined: [], approved: [], asked: [], max_chars: 280 };
  let board = EMPTY;
  let listKey = "";

  function load(key) {
    try { const v = JSON.parse(localStorage.getItem(key) || "[]"); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* memory only */ }
  }
  let mine = load(MINE_KEY).filter((id) => Number.isInteger(id));
  let upvoted = new Set(load(UPVOTED_KEY).filter((id) => Number.isInteger(id)));

  /* -- the DOM, built once ------------------------------------------------------------------------- */

  const source = tx(el("p", { class: "kicker from-audience", id: "floor-source", hidden: true }), "questions.fromAudience");
  const sourceWaiting = stage ? null : tx(el("p", { class: "kicker from-audience", id: "floor-source-waiting", hidden: true }),
    "questions.fromAudience");
  const section = stage ? stageSection() : phoneSection();

  function phoneSection() {
    const box = el("section", { id: "floor", class: "floor", hidden: true, "aria-labelledby": "floor-title" });
    box.append(
      tx(el("h2", { id: "floor-title" }), "questions.title"),
      tx(el("p", { id: "floor-intro", class: "hint" }), "questions.intro"),
    );
    const form = el("form", { id: "floor-form", novalidate: true });
    const label = tx(el("label", { for: "floor-text" }), "questions.label");
    const area = el("textarea", { id: "floor-text", name: "question", rows: "3", dir: "auto", maxlength: "280",
                                  "aria-describedby": "floor-count floor-notice", autocomplete: "off" });
    const count = el("p", { id: "floor-count", class: "hint", "aria-live": "off" });
    const send = tx(el("button", { type: "submit", id: "floor-send", class: "primary" }), "questions.submit");
    form.append(label, area, count, send);
    area.addEventListener("input", renderCount);
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
    box.append(form,
      el("p", { id: "floor-notice", class: "notice", role: "status", "aria-live": "polite" }),
      el("ul", { id: "floor-mine", class: "floor-mine" }),
      tx(el("h3", { id: "floor-list-title" }), "questions.listTitle"),
      tx(el("p", { id: "floor-none", class: "muted" }), "questions.none"),
      el("ol", { id: "floor-list", class: "floor-list", "aria-labelledby": "floor-list-title" }));
    return box;
  }

  function stageSection() {
    const box = el("section", { id: "floor", class: "floor floor-stage", hidden: true, "aria-labelledby": "floor-title" });
    box.append(
      tx(el("h2", { id: "floor-title" }), "questions.stageTitle"),
      tx(el("p", { id: "floor-intro", class: "muted" }), "questions.stageHint"),
      tx(el("p", { id: "floor-none", class: "muted" }), "questions.none"),
      el("ol", { id: "floor-list", class: "floor-list" }));
    return box;
  }

  function mount() {
    const prompt = document.getElementById("prompt");
    if (prompt) prompt.before(source);
    const waitingPrompt = document.getElementById("waiting-prompt");
    if (sourceWaiting && waitingPrompt) waitingPrompt.before(sourceWaiting);
    if (stage) {
      const now = document.querySelector(".now");
      (now || document.body).append(section);
    } else {
      (document.getElementById("main") || document.body).append(section);
    }
  }

  /* -- rendering ---------------------------------------------------------------------------------- */

  function renderCount() {
    const area = document.getElementById("floor-text");
    if (!area) return;
    tx(document.getElementById("floor-count"), "questions.count", { count: area.value.length, max: board.max_chars });
  }

  function render(state) {
    const fromAudience = state.source === "audience";
    source.hidden = !fromAudience;
    if (sourceWaiting) sourceWaiting.hidden = !fromAudience;
    board = { ...EMPTY, ...(state.questions || {}) };
    document.body.dataset.floor = board.open ? "open" : "closed";
    section.hidden = !board.open && (stage || mine.length === 0);  // closed: a phone still hears of its own
    if (!stage) {
      const area = document.getElementById("floor-text");
      area.maxLength = board.max_chars;
      for (const id of ["floor-intro", "floor-form", "floor-list-title", "floor-list"]) {
        document.getElementById(id).hidden = !board.open;
      }
      renderCount();
      renderMine();
    }
    renderList();
  }

  /* The approved questions, rebuilt only when they (or this phone's upvotes and questions) changed. */
  function renderList() {
    const key = JSON.stringify(board.items) + "|" + [...upvoted].join(",") + "|" + mine.join(",");
    if (key === listKey) return;
    listKey = key;
    const list = document.getElementById("floor-list");
    clear(list);
    for (const q of board.items) list.append(item(q));
    document.getElementById("floor-none").hidden = board.items.length > 0 || !board.open;
  }

  function item(q) {
    const li = el("li", { class: "floor-item" + (q.starred ? " starred" : ""), "data-id": q.id });
    const text = el("p", { class: "floor-text", dir: "auto" });
    text.textContent = q.text;  // a person's words, as written
    li.append(text);
    const meta = el("p", { class: "floor-meta muted" });
    if (q.starred) meta.append(tx(el("span", { class: "star" }), "questions.starred"), " · ");
    if (q.asked) meta.append(tx(el("span"), "questions.asked"), " · ");
    meta.append(tx(el("span", { class: "floor-upvotes" }), "questions.upvotes", { count: q.upvotes }));
    li.append(meta);
    if (!stage) {
      const own = mine.includes(q.id);
      if (own) li.append(tx(el("p", { class: "floor-own muted" }), "questions.yours"));
      else if (!q.asked) {
        const done = upvoted.has(q.id);
        const button = el("button", { type: "button", class: "upvote", "aria-pressed": done ? "true" : "false",
                                      disabled: done });
        tx(button, done ? "questions.upvoted" : "questions.upvote");
        Finale.attr(button, "aria-label", done ? "questions.upvotedLabel" : "questions.upvoteLabel", { count: q.upvotes });
        button.addEventListener("click", () => upvote(q.id));
        li.append(button);
      }
    }
    return li;
  }

  function renderMine() {
    const list = document.getElementById("floor-mine");
    clear(list);
    for (const id of mine) {
      let key = "questions.mine.pending";
      if (board.declined.includes(id)) key = "questions.mine.declined";
      else if (board.asked.includes(id)) key = "questions.mine.asked";
      else if (board.approved.includes(id)) key = "questions.mine.approved";
      list.append(tx(el("li", { "data-id": id, "data-status": key.split(".").pop() }), key, { id: id }));
    }
  }

  function notice(key, vars, code) {
    const node = document.getElementById("floor-notice");
    tx(node, key, vars);
    if (code) node.dataset.code = code; else delete node.dataset.code;
  }

  /* What the hub refused, in the reader's language: this part's own words for its codes (or the hub's
     English message, which says more: when to try again, how long the limit is). */
  function refusal(msg) {
    const node = document.getElementById("floor-notice");
    const key = "questions.error." + msg.code;
    if (I18n.lang() !== "en" && I18n.has(key)) tx(node, key);
    else { I18n.untie(node); node.textContent = Finale.errorText(msg); }
    node.dataset.code = msg.code;
  }

  /* -- sending -------------------------------------------------------------------------------------- */

  function submit() {
    const area = document.getElementById("floor-text");
    const text = area.value;
    if (!text.trim()) { notice("questions.error.empty", null, "empty"); area.focus(); return; }
    const id = "q-" + Finale.messageId();
    if (!link || !link.send({ type: "question", text: text, id: id })) { notice("questions.offline", null, "offline"); return; }
    sent.set(id, "question");
    notice("questions.sending");
  }

  function upvote(questionId) {
    const id = "u-" + Finale.messageId();
    if (!link || !link.send({ type: "upvote", question_id: questionId, id: id })) { notice("questions.offline", null, "offline"); return; }
    sent.set(id, { upvote: questionId });
  }

  /* -- the page's messages ------------------------------------------------------------------------ */

  function handle(msg, pageLink) {
    link = pageLink || link;
    if (msg.type === "state") { render(msg); return false; }
    if ((msg.type !== "ack" && msg.type !== "error") || !sent.has(msg.id)) return false;
    const what = sent.get(msg.id);
    sent.delete(msg.id);
    if (msg.type === "error") {
      if (what !== "question" && msg.code === "already_voted") { upvoted.add(what.upvote); save(UPVOTED_KEY, [...upvoted]); }
      refusal(msg);
    } else if (what === "question") {
      mine.push(msg.question_id);
      save(MINE_KEY, mine.slice(-50));
      document.getElementById("floor-text").value = "";
      renderCount();
      notice("questions.sent", null, "pending");
    } else {
      upvoted.add(what.upvote);
      save(UPVOTED_KEY, [...upvoted]);
      notice("questions.upvoteSent", { count: msg.upvotes }, "upvoted");
    }
    if (!stage) renderMine();
    renderList();
    return true;
  }

  mount();
  return { handle };
})();
