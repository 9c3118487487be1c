/* The projector and livestream page: QR, answers, countdown, vote bars, leaderboard, reveals. */
"use strict";

(() => {
  const { el, setText, clear, formatCountdown } = Finale;
  const params = new URLSearchParams(location.search);
  if (params.get("overlay") === "1") {
    document.documentElement.classList.add("overlay");
    document.body.classList.add("overlay");
  }
  let state = null;
  let tally = null;
  let answersKey = "";
  let revealKey = "";

  const link = new Finale.Link({
    hello: () => ({ type: "hello", role: "stage", device_id: Finale.deviceId() }),
    onMessage: handle,
    onStatus: Finale.bindStatus("status"),
  });

  function handle(msg) {
    if (msg.type === "state") {
      if (state && state.round !== msg.round) tally = null;
      state = msg;
      render();
    } else if (msg.type === "tally") {
      tally = msg;
      renderBars();
    }
  }

  function pct(weight) { return Math.round(weight * 100) + "%"; }

  function render() {
    setText("event", state.event);
    setText("round-no", state.round || "–");
    setText("phase", state.phase || "waiting");
    setText("prompt", state.prompt || "");
    setText("join-url", state.join_url);
    setText("w-llm", "LLM " + pct(state.weights.llm));
    setText("w-panel", "Panel " + pct(state.weights.panel));
    setText("w-audience", "Audience " + pct(state.weights.audience));
    const key = Finale.answersKey(state);
    if (key !== answersKey) {
      answersKey = key;
      const list = document.getElementById("answers");
      clear(list);
      list.dataset.count = String(state.answers.length);
      for (const a of state.answers) {
        const shown = a.status === "ok" || a.status === "streaming";
        const body = el("p", { class: "text" + (shown ? "" : " failed") }, shown ? a.text : "(" + a.status + ")");
        list.append(el("li", { class: "answer", "data-label": a.label }, el("h3", { class: "label" }, a.label), body));
      }
    }
    markOverflow();
    renderIdle();
    renderBoard();
    renderBars();
    renderReveal();
    tick();
  }

  /* An answer taller than its card fades out at the card's foot instead of being cut mid-line. */
  function markOverflow() {
    for (const node of document.querySelectorAll("#answers .text")) {
      node.classList.toggle("long", node.scrollHeight > node.clientHeight + 2);
    }
  }
  window.addEventListener("resize", markOverflow);

  /* The big call to action while there are no answers to show. */
  function renderIdle() {
    const idle = !state.answers.length;
    document.getElementById("idle").hidden = !idle;
    if (!idle) return;
    const text = { draft: "Next question coming up…", void: "This round was cancelled." }[state.phase] ||
      (state.round ? "Next round coming up…" : "The first round starts soon.");
    setText("idle-text", text);
  }

  function renderBoard() {
    const body = document.getElementById("board");
    clear(body);
    document.getElementById("board-empty").hidden = state.leaderboard.some((r) => r.hidden || r.rounds > 0);
    for (const row of state.leaderboard) {
      if (row.hidden) {
        body.append(el("tr", { class: "masked" }, el("td", {}, String(row.rank)), el("td", {}, "?"),
          el("td", {}, "–"), el("td", {}, "–"), el("td", {}, "–"), el("td", { class: "total" }, "–")));
        continue;
      }
      body.append(el("tr", { class: row.rank === 1 && row.rounds > 0 ? "leader" : "" },
        el("td", {}, row.rounds === 0 ? "–" : String(row.rank) + (row.tied ? "=" : "")),
        el("td", {}, row.name, row.overridden ? el("span", { class: "mark", title: "override applied" }, " *") : ""),
        ...[row.llm, row.panel, row.audience].map((v) => el("td", {}, row.rounds === 0 ? "–" : v.toFixed(1))),
        el("td", { class: "total" }, row.rounds === 0 ? "–" : row.total.toFixed(1))));
    }
  }

  function renderBars() {
    const hidden = !state || state.results_hidden || !tally || tally.round !== state.round;
    document.getElementById("bars").hidden = hidden;
    document.getElementById("bars-hidden").hidden = !hidden;
    if (state && state.results_hidden) setText("bars-hidden", state.phase === "voting" ? "Results appear when voting closes." : "No vote yet.");
    if (hidden) return;
    const list = document.getElementById("bars");
    clear(list);
    const total = tally.total || 0;
    for (const [label, count] of Object.entries(tally.counts)) {
      const share = total ? count / total : 0;
      const bar = el("span", { class: "fill" });
      bar.style.width = (share * 100).toFixed(1) + "%";
      list.append(el("li", { "data-label": label },
        el("span", { class: "bar-label" }, label),
        el("span", { class: "track", role: "img", "aria-label": label + ": " + count + " votes" }, bar),
        el("span", { class: "count" }, count + " (" + Math.round(share * 100) + "%)")));
    }
  }

  function renderReveal() {
    const box = document.getElementById("reveal");
    const final = state.final_reveal;
    const round = state.reveal;
    const place = state.place_reveal;
    const key = JSON.stringify([final, place, round && round.winners, state.round]);
    if (!final && !round && !place) { box.hidden = true; revealKey = key; return; }
    if (key === revealKey) return;
    revealKey = key;
    const mapping = document.getElementById("reveal-mapping");
    clear(mapping);
    if (final) {
      setText("reveal-kicker", "And the winner is");
      setText("reveal-title", final.winners.join(" & "));
      if (final.total !== null && final.total !== undefined) mapping.append(el("li", {}, final.total.toFixed(1) + " points"));
    } else if (place) {
      setText("reveal-kicker", "In place " + place.place);
      setText("reveal-title", place.name);
      mapping.append(el("li", {}, place.total === null ? "" : place.total.toFixed(1) + " points"));
    } else {
      const won = round.winners.length > 0;
      setText("reveal-kicker", won ? "Round " + state.round + " winner" : "Round " + state.round + " · who was who");
      setText("reveal-title", won ? round.winners.join(" & ") : "The answers unmasked");
      for (const row of round.mapping) {
        mapping.append(el("li", {}, el("strong", {}, row.label), " · ", row.name,
          " · " + row.votes + (row.votes === 1 ? " vote" : " votes"),
          row.total === null ? "" : " · " + row.total.toFixed(1) + " pts", row.overridden ? " *" : ""));
      }
    }
    box.hidden = false;
    box.classList.remove("play");
    void box.offsetWidth;  // restart the animation
    box.classList.add("play");
    if (!final) setTimeout(() => { if (revealKey === key) box.hidden = true; }, 12000);
  }

  function tick() {
    if (!state) return;
    const node = document.getElementById("countdown");
    node.classList.remove("soon");  // set again below while the last ten seconds run
    if (state.phase === "voting" && state.paused && state.paused.remaining !== null) {
      node.textContent = formatCountdown(state.paused.remaining) + " · paused";
    } else if (state.phase === "voting" && state.deadline !== null) {
      const left = state.deadline - link.serverNow();
      node.textContent = left > 0 ? formatCountdown(left) : "Voting closed";
      node.classList.toggle("soon", left > 0 && left <= 10);
    } else {
      node.textContent = ["closed", "final"].includes(state.phase) ? "Voting closed" : "";
    }
    node.classList.toggle("done", node.textContent === "Voting closed");  // smaller: the news is the result
  }

  setInterval(tick, 250);
})();
