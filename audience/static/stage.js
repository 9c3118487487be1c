/* The projector and livestream page: QR, answers, countdown, vote count and bars, leaderboard, reveals,
   the spotlight. The layout and the fit of the answers are stage_fit.js's (a fixed 1920x1080 canvas). */
"use strict";

(() => {
  const { el, setText, setT, t, tx, clear, formatCountdown } = Finale;
  const roundNo = document.getElementById("round-no");
  const phaseNode = document.getElementById("phase");
  const joinUrl = document.getElementById("join-url");
  const params = new URLSearchParams(location.search);
  if (params.get("overlay") === "1") {
    document.documentElement.classList.add("overlay");
    document.body.classList.add("overlay");
  }
  let state = null;
  let tally = null;
  let answersKey = "";
  let revealKey = "";   // the standings reveal on the stage now ("" when none)
  const ROUND_SHOWN = "finale.stageRoundShown";  // kept across a reload: a refreshed projector does not replay it
  let roundKey = "";    // the round reveal (who was who) last shown, so it is shown once
  try { roundKey = sessionStorage.getItem(ROUND_SHOWN) || ""; } catch (e) { roundKey = ""; }
  let fitKey = "";
  let spotKey = "";

  const link = new Finale.Link({
    hello: () => ({ type: "hello", role: "stage", device_id: Finale.deviceId() }),
    onMessage: (msg) => { if (!FinaleQuestions.handle(msg, link)) handle(msg); },  // questions.js: the board
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
    tx(document.getElementById("round-kicker"), "stage.kicker", { round: roundNo, phase: phaseNode });
    setText("round-no", state.round || "–");
    setT("phase", state.phase ? "phase." + state.phase : "stage.waiting");
    setText("prompt", state.prompt || "");
    tx(document.getElementById("vote-at"), "stage.voteAt", { url: joinUrl });
    setText("join-url", state.join_url);
    renderJoinCode();
    setT("w-llm", "stage.wLlm", { pct: pct(state.weights.llm) });
    setT("w-panel", "stage.wPanel", { pct: pct(state.weights.panel) });
    setT("w-audience", "stage.wAudience", { pct: pct(state.weights.audience) });
    const key = Finale.answersKey(state);
    if (key !== answersKey) {
      answersKey = key;
      const list = document.getElementById("answers");
      clear(list);
      delete list.dataset.fitted;
      list.dataset.count = String(state.answers.length);
      for (const a of state.answers) {
        const shown = a.status === "ok" || a.status === "streaming";
        const body = el("p", { class: "text" + (shown ? "" : " failed"), dir: shown ? "auto" : null }, shown ? a.text : "");
        if (!shown) tx(body, "stage.failed", { status: tx(el("span"), "status." + a.status) });
        list.append(el("li", { class: "answer", "data-label": a.label },
          el("div", { class: "card-head" }, el("h3", { class: "label" }, a.label), el("span", { class: "pager" })),
          body));
      }
    }
    document.body.dataset.mode = !state.answers.length ? "idle" : state.phase === "voting" ? "voting"
      : ["closed", "final"].includes(state.phase) ? "results" : "answers";
    fitLater();
    renderIdle();
    renderSpotlight();
    renderBoard();
    renderBars();
    renderReveal();
    tick();
  }

  /* With proof of presence on, the join URL carries a join code that rotates: the QR follows it
     (`/qr/<code>.svg`, served only while the code is fresh); otherwise the fixed `/qr.svg`. */
  function renderJoinCode() {
    const code = /[?&]j=([A-Z2-7]{8})/.exec(state.join_url || "");
    const src = code ? "/qr/" + code[1] + ".svg" : "/qr.svg";
    const img = document.getElementById("qr");
    if (img && img.getAttribute("src") !== src) img.setAttribute("src", src);
  }

  /* Fit the cards once the layout is settled (a streamed answer changes often: at most every 300 ms). */
  let fitTimer = null;
  function fitLater() {
    const key = answersKey + "|" + document.body.dataset.mode;
    if (key === fitKey || fitTimer) return;
    fitTimer = setTimeout(() => {
      fitTimer = null;
      fitKey = answersKey + "|" + document.body.dataset.mode;
      StageFit.fitAnswers(document.getElementById("answers"));
    }, fitKey.startsWith(state.round + "|") ? 300 : 0);
  }

  /* One answer over the whole stage, when the MC puts it in the spotlight (long answers). */
  function renderSpotlight() {
    const label = state.spotlight;
    const answer = label ? state.answers.find((a) => a.label === label) : null;
    for (const card of document.querySelectorAll("#answers .answer")) {
      card.classList.toggle("spotlit", !!answer && card.dataset.label === label);
    }
    document.getElementById("spotlight").hidden = !answer;
    if (!answer) { spotKey = ""; return; }
    const key = state.round + "|" + label + "|" + answer.status + "|" + answer.text.length;
    if (key === spotKey) return;
    spotKey = key;
    const shown = answer.status === "ok" || answer.status === "streaming";
    setT("spot-label", "answer.label", { label: label });
    if (shown) setText("spot-text", answer.text);
    else setT("spot-text", "stage.failed", { status: tx(el("span"), "status." + answer.status) });
    StageFit.fitSpotlight(document.getElementById("spot-text"), document.getElementById("spot-pager"));
  }

  /* The big call to action while there are no answers to show. */
  function renderIdle() {
    const idle = !state.answers.length;
    document.getElementById("idle").hidden = !idle;
    if (!idle) return;
    setT("idle-text", ["draft", "void"].includes(state.phase) ? "stage.idle." + state.phase
      : state.round ? "stage.idle.next" : "stage.idle.first");
    /* The sealed manifest's SHA-256 (`finale seal`), in groups of eight: anyone can check it against the report. */
    document.getElementById("idle-seal").hidden = !state.seal;
    setText("seal-hash", state.seal ? state.seal.match(/.{1,8}/g).join(" ") : "");
  }

  function renderBoard() {
    const body = document.getElementById("board");
    clear(body);
    document.getElementById("board-empty").hidden = state.leaderboard.some((r) => r.hidden || r.rounds > 0);
    document.getElementById("board-legend").hidden = !state.leaderboard.some((r) => r.overridden || (r.tied && r.rounds > 0));
    /* "Beat the 90B: Ray 3 of 5 · Mia 1 of 5": the head-to-head both ways round, when the event shows it. */
    const h2h = state.beat_reference;
    document.getElementById("board-h2h").hidden = !h2h;
    if (h2h) {
      const rows = h2h.rows.map((r) => t("stage.winsOf", { name: r.name, wins: r.wins, count: r.judged })).join(" · ");
      setT("board-h2h", "stage.h2h", { label: Finale.hubPhrase(el("span"), h2h.label), rows: rows });
    } else setText("board-h2h", "");
    for (const row of state.leaderboard) {
      if (row.hidden) {
        body.append(el("tr", { class: "masked" }, el("td", {}, String(row.rank)), el("td", {}, "?"),
          el("td", {}, "–"), el("td", {}, "–"), el("td", {}, "–"), el("td", { class: "total" }, "–")));
        continue;
      }
      body.append(el("tr", { class: row.rank === 1 && row.rounds > 0 ? "leader" : "" },
        el("td", {}, row.rounds === 0 ? "–" : String(row.rank) + (row.tied ? "=" : "")),
        el("td", {}, row.name, row.overridden ? Finale.attr(el("span", { class: "mark" }, " *"), "title", "stage.overridden") : ""),
        ...[row.llm, row.panel, row.audience].map((v) => el("td", {}, row.rounds === 0 ? "–" : v.toFixed(1))),
        el("td", { class: "total" }, row.rounds === 0 ? "–" : row.total.toFixed(1))));
    }
  }

  /* How many voted ("1,234 votes", even while results are hidden) and, once they may be seen, for whom. */
  function renderBars() {
    const current = !!state && !!tally && tally.round === state.round;
    const counting = current && ["voting", "closed", "final"].includes(state.phase);
    const total = current ? tally.total || 0 : 0;
    if (counting) setT("vote-count", "votes", { count: total }); else setText("vote-count", "");
    const hidden = !state || state.results_hidden || !current || tally.hidden;
    document.getElementById("bars").hidden = hidden;
    document.getElementById("bars-hidden").hidden = !hidden;
    if (state && state.results_hidden) setT("bars-hidden", state.phase === "voting" ? "stage.resultsLater" : "stage.noVote");
    if (hidden) return;
    const list = document.getElementById("bars");
    clear(list);
    for (const [label, count] of Object.entries(tally.counts)) {
      const share = total ? count / total : 0;
      const bar = el("span", { class: "fill" });
      bar.style.width = (share * 100).toFixed(1) + "%";
      list.append(el("li", { "data-label": label },
        el("span", { class: "bar-label" }, label),
        Finale.attr(el("span", { class: "track", role: "img" }, bar), "aria-label", "stage.barLabel", { label: label, count: count }),
        tx(el("span", { class: "count" }), "stage.barCount", { count: count, pct: Math.round(share * 100) })));
    }
  }

  function points(total) { return total === null || total === undefined ? "" : t("points", { points: Finale.num(total, 1) }); }

  function play(box) {
    box.hidden = false;
    box.classList.remove("play");
    void box.offsetWidth;  // restart the animation
    box.classList.add("play");
  }

  /* The standings reveal (a moment the MC starts and dismisses; the hub names it: "In place 3",
     "Leader after round 4", "And the winner is") stays until it ends; the round's who-was-who is shown
     once, for 12 s, and never comes back when a standings reveal is dismissed. */
  function renderReveal() {
    const box = document.getElementById("reveal");
    const final = state.final_reveal;
    const place = state.place_reveal;
    const round = state.reveal;
    const mapping = document.getElementById("reveal-mapping");
    if (final || place) {
      const key = JSON.stringify([final, place]);
      if (key === revealKey) return;
      revealKey = key;
      clear(mapping);
      const top = final || place;
      Finale.hubPhrase(document.getElementById("reveal-kicker"), top.heading);
      if (final) setText("reveal-title", Finale.names(final.winners));
      else if (place.tied) setT("reveal-title", "stage.tiedName", { name: place.name });
      else setText("reveal-title", place.name);
      Finale.hubPhrase(document.getElementById("reveal-moment"), top.moment);
      if (points(top.total)) mapping.append(tx(el("li", { class: "points" }), "points", { points: Finale.num(top.total, 1) }));
      play(box);
      return;
    }
    if (revealKey) { revealKey = ""; box.hidden = true; }
    const key = round ? JSON.stringify([state.round, round.winners, round.mapping.map((r) => [r.place, r.total])]) : "";
    if (!round || key === roundKey) {
      if (!round) box.hidden = true;
      return;
    }
    roundKey = key;
    try { sessionStorage.setItem(ROUND_SHOWN, key); } catch (e) { /* this page only */ }
    clear(mapping);
    const won = round.winners.length > 0;
    setT("reveal-kicker", !won ? "stage.roundWhoWas" : round.tied ? "stage.roundTied" : "stage.roundWinner", { round: state.round });
    if (won) setText("reveal-title", Finale.names(round.winners)); else setT("reveal-title", "stage.unmasked");
    setText("reveal-moment", "");
    const rows = [...round.mapping].sort((a, b) => (a.place || 99) - (b.place || 99) || a.label.localeCompare(b.label));
    for (const row of rows) {
      const place = row.place ? el("span", { class: row.tied ? "tie" : "" }, row.place + (row.tied ? "= " : ". ")) : "";
      mapping.append(el("li", {}, place, el("strong", {}, row.label), " · ", row.name,
        " · ", tx(el("span"), "votes", { count: row.votes }),
        row.total === null ? "" : " · ", row.total === null ? "" : tx(el("span"), "stage.pts", { points: Finale.num(row.total, 1) }),
        row.overridden ? " *" : ""));
    }
    play(box);
    setTimeout(() => { if (roundKey === key && !revealKey) box.hidden = true; }, 12000);
  }

  function tick() {
    if (!state) return;
    const node = document.getElementById("countdown");
    node.classList.remove("soon");  // set again below while the last ten seconds run
    if (state.phase === "voting" && state.paused && state.paused.remaining !== null) {
      setT("countdown", "stage.paused", { time: formatCountdown(state.paused.remaining) });
    } else if (state.phase === "voting" && state.deadline !== null) {
      const left = state.deadline - link.serverNow();
      if (left > 0) setText("countdown", formatCountdown(left)); else setT("countdown", "countdown.closed");
      node.classList.toggle("soon", left > 0 && left <= 10);
    } else if (["closed", "final"].includes(state.phase)) setT("countdown", "countdown.closed");
    else setText("countdown", "");
    node.classList.toggle("done", node.getAttribute("data-i18n") === "countdown.closed");  // smaller: the news is the result
  }

  setInterval(tick, 250);
  /* A new language: everything marked is translated already; redraw what is composed (not the reveal's entrance). */
  Finale.onLanguage(() => { if (state) render(); });
})();
