/* The audience's phone: see the answers, vote, see the ack, change the vote until the close, see the reveal. */
"use strict";

(() => {
  const { el, setText, setT, t, tx, clear, formatCountdown } = Finale;
  const PENDING_KEY = "finale.pendingVote";
  const device = Finale.deviceId();
  let state = null;
  let myVote = null;        // {round, label} acknowledged by the hub
  let pending = loadPending();
  let answersKey = "";
  const roundNo = document.getElementById("round-no");

  function loadPending() {
    try { return JSON.parse(localStorage.getItem(PENDING_KEY) || "null"); } catch (e) { return null; }
  }
  function savePending(p) {
    pending = p;
    try {
      if (p) localStorage.setItem(PENDING_KEY, JSON.stringify(p)); else localStorage.removeItem(PENDING_KEY);
    } catch (e) { /* memory only */ }
  }

  /* The voter credential the hub issued this phone: kept beside the pending vote and sent in every hello,
     across reconnects and restarts. The hub keys this phone's votes by it, never by the device id. The
     join code (`?j=` in the stage's QR link, with proof of presence on) is needed only for a new one. */
  const CREDENTIAL_KEY = "finale.credential";
  const joinCode = new URLSearchParams(location.search).get("j");
  let credential = null;
  try { credential = localStorage.getItem(CREDENTIAL_KEY); } catch (e) { credential = null; }
  let credentialRetry = null;

  function keepCredential(msg) {
    const problem = msg.credential_error;
    credential = msg.credential || null;
    try {
      if (credential) localStorage.setItem(CREDENTIAL_KEY, credential); else localStorage.removeItem(CREDENTIAL_KEY);
    } catch (e) { /* memory only: this tab keeps it until it is closed */ }
    if (!credential && problem) {
      noticeText(Finale.errorText(problem));
      // over the per-address allowance: ask again a little later (the hello of the next connection does)
      if (problem.code === "credential_limit" && !credentialRetry) {
        credentialRetry = setTimeout(() => { credentialRetry = null; if (link.ws) link.ws.close(); }, 20000);
      }
    }
  }

  function helloFrame() {
    const msg = { type: "hello", role: "audience", device_id: device };
    if (credential) msg.credential = credential;
    if (joinCode && /^[A-Z2-7]{8}$/.test(joinCode)) msg.join = joinCode;
    return msg;
  }

  const link = new Finale.Link({
    hello: helloFrame,
    onMessage: (msg) => { if (!FinaleQuestions.handle(msg, link)) handle(msg); },  // questions.js: its acks and errors
    onStatus: Finale.bindStatus("status"),
  });

  function votingOpen() {
    return state && state.voting_open && state.deadline !== null && link.serverNow() <= state.deadline;
  }

  /* An unacknowledged vote is kept (and in localStorage) and resent, with the same id, until the hub
     acknowledges it or the poll closes: on every (re)connect and state, and on a timer that backs off
     from 1 s to 15 s, so a hub that cannot store it yet ("unavailable", a full disk), that is rate
     limiting, or whose answer was lost, gets it again. The hub counts a resend once. */
  const RESEND_FIRST_MS = 1000;
  const RESEND_MAX_MS = 15000;
  let resendTimer = null;
  let resendDelay = RESEND_FIRST_MS;

  function scheduleResend() {
    if (resendTimer || !pending) return;
    const wait = resendDelay / 2 + Math.random() * resendDelay / 2;
    resendDelay = Math.min(RESEND_MAX_MS, resendDelay * 2);
    resendTimer = setTimeout(() => { resendTimer = null; resendPending(); }, wait);
  }

  function stopResending() {
    if (resendTimer) clearTimeout(resendTimer);
    resendTimer = null;
    resendDelay = RESEND_FIRST_MS;
  }

  /* A vote tapped before the close whose ack never came (the hub was stalled, or restarted) is resent
     after the close too, with its id and its cast time: the hub counts it within its grace, or says no. */
  function castBeforeClose() {
    return typeof pending.cast_at === "number" && state.deadline !== null && pending.cast_at <= state.deadline
      && !state.paused && ["voting", "closed"].includes(state.phase);
  }

  function voteFrame(p) {
    const msg = { type: "vote", round: p.round, label: p.label, id: p.id };
    if (typeof p.cast_at === "number") msg.cast_at = p.cast_at;
    return msg;
  }

  function resendPending() {
    if (pending && state && pending.round === state.round && (votingOpen() || castBeforeClose())) {
      link.send(voteFrame(pending));
      scheduleResend();  // offline or unanswered: the timer (or the reconnect's state) sends it again
    } else if (pending && state && (pending.round !== state.round || state.phase !== "voting" && !castBeforeClose())) {
      if (pending.round === state.round) notice("phone.late", { label: pending.label });
      savePending(null);
      stopResending();
    } else if (pending) {
      scheduleResend();  // paused, or the countdown has not caught up: look again later
    }
  }

  function handle(msg) {
    if (msg.type === "state") {
      const newRound = !state || state.round !== msg.round;
      if (state && (newRound || state.phase !== msg.phase)) noticeText("");  // "vote received" belongs to the poll
      state = msg;
      if ("credential" in msg) keepCredential(msg);
      if ("my_vote" in msg) myVote = msg.my_vote ? { round: msg.round, label: msg.my_vote } : null;
      else if (newRound) myVote = null;
      render();
      resendPending();
    } else if (msg.type === "ack") {
      if (pending && pending.id === msg.id) { savePending(null); stopResending(); }
      myVote = { round: msg.round, label: msg.label };
      notice("phone.received", { label: msg.label });
      renderVotes();
    } else if (msg.type === "error") {
      const keep = ["unavailable", "rate_limited"].includes(msg.code);  // not stored yet: it will be resent
      const mine = pending && msg.id === pending.id;
      if (mine) {
        if (keep) scheduleResend();
        else { savePending(null); stopResending(); }
      }
      if (mine && keep) notice("phone.notStored", { label: pending.label, reason: Finale.errorText(msg) });
      else noticeText(Finale.errorText(msg));
      renderVotes();
    }
  }

  /* The "vote received" line (a polite live region): a catalogue key, or the hub's words (noticeText). */
  function notice(key, vars) { setT("notice", key, vars); }
  function noticeText(text) { setText("notice", text); }

  function vote(label) {
    if (state && state.phase === "voting" && state.paused) {
      notice("phone.pausedVote"); return;
    }
    if (!state || !votingOpen()) { notice("phone.closedVote"); return; }
    const p = { round: state.round, label: label, id: Finale.messageId(), cast_at: link.serverNow() };
    savePending(p);
    stopResending();  // a new choice starts its own resend backoff
    notice(link.send(voteFrame(p)) ? "phone.sending" : "phone.offline", { label: label });
    scheduleResend();
    renderVotes();
  }

  /* What the phone says while there is nothing to vote on, phase by phase (phone.wait.<phase>.title/text). */
  const WAITING = ["none", "draft", "asking", "answered", "judging", "void"];

  function render() {
    setText("event", state.event || "Finale");
    const showRound = state.answers && state.answers.length > 0;
    document.getElementById("waiting").hidden = showRound;
    document.getElementById("round").hidden = !showRound;
    if (!showRound) {
      const phase = WAITING.includes(state.phase) ? state.phase : "none";
      const title = "phone.wait." + phase + ".title";
      if (state.round) setT("waiting-title", "phone.waitRound", { round: state.round, title: t(title) });
      else setT("waiting-title", title);
      setT("waiting-text", "phone.wait." + phase + ".text");
      const preview = document.getElementById("waiting-prompt");
      preview.hidden = !(state.round && state.prompt);
      preview.textContent = state.prompt || "";
    }
    tx(document.getElementById("round-kicker"), "round.kicker", { round: roundNo });
    setText("round-no", state.round);
    setText("prompt", state.prompt || "");
    const key = Finale.answersKey(state);
    if (key !== answersKey) {
      answersKey = key;
      const list = document.getElementById("answers");
      clear(list);
      for (const a of state.answers) {
        list.append(el("li", { class: "answer", "data-label": a.label },
          el("h3", { class: "label" }, tx(el("span"), "answer.label", { label: a.label }), el("span", { class: "who-was" })),
          ...Finale.answerBody(a),
          el("button", { type: "button", class: "vote", "data-label": a.label, onclick: () => vote(a.label) })));
      }
    }
    renderVotes();
    renderReveal();
    renderChampion();
    tick();
  }

  /* The top of the standings once the MC's reveal reaches it: "And the winner is" only at the end of the
     show, "Leader after round N" mid-show; never above a live ballot (the hub leaves it out while voting). */
  function renderChampion() {
    const top = state.final_reveal;
    document.getElementById("champion").hidden = !top;
    if (!top) return;
    Finale.hubPhrase(document.getElementById("champion-kicker"), top.heading || "And the winner is");
    setText("champion-title", Finale.names(top.winners));
    const pts = top.total === null ? null : { points: Finale.num(top.total, 1) };
    const node = document.getElementById("champion-points");
    if (top.final) tx(node, pts ? "phone.thanksPoints" : "phone.thanks", pts);
    else if (pts && top.moment) tx(node, "joined", { a: t("points", pts), b: Finale.hubPhrase(el("span"), top.moment) });
    else if (pts) tx(node, "points", pts);
    else Finale.hubPhrase(node, top.moment || "");
  }

  function renderVotes() {
    if (!state) return;
    const open = votingOpen();
    const mine = myVote && myVote.round === state.round ? myVote.label : null;
    for (const button of document.querySelectorAll("button.vote")) {
      const label = button.dataset.label;
      const sending = pending && pending.round === state.round && pending.label === label;
      button.disabled = !open;
      button.hidden = !open && mine !== label;
      button.setAttribute("aria-pressed", mine === label ? "true" : "false");
      tx(button, mine === label ? (open ? "phone.yourVote" : "phone.youVoted") : sending ? "phone.sendingShort" : "phone.vote",
        { label: label });
      button.closest("li").classList.toggle("chosen", mine === label);
    }
    let hint;
    if (state.phase === "voting" && state.paused) hint = "phone.hint.paused";
    else if (open) hint = mine ? "phone.hint.counted" : "phone.hint.open";
    else hint = mine ? "phone.hint.wasCounted" : "phone.hint.none";
    setT("hint", hint, { label: mine });
  }

  function renderReveal() {
    const reveal = state.reveal;
    document.getElementById("reveal").hidden = !reveal;
    const names = {};
    if (reveal) for (const row of reveal.mapping) names[row.label] = row.name;
    for (const node of document.querySelectorAll("#answers li")) {
      const who = node.querySelector(".who-was");
      who.textContent = names[node.dataset.label] ? " · " + names[node.dataset.label] : "";
    }
    if (!reveal) return;
    const list = document.getElementById("mapping");
    clear(list);
    for (const row of reveal.mapping) {
      const mine = myVote && myVote.round === state.round && myVote.label === row.label;
      list.append(el("li", {},
        tx(el("span"), "phone.was", { label: el("strong", {}, row.label), name: el("span", { class: "name" }, row.name) }),
        " · ", tx(el("span"), "votes", { count: row.votes }),
        row.total === null ? "" : " · ", row.total === null ? "" : tx(el("span"), "points", { points: Finale.num(row.total, 1) }),
        mine ? " " : "", mine ? tx(el("span", { class: "yours" }), "phone.yours") : ""));
    }
    if (reveal.winners.length) setT("winner", reveal.tied ? "phone.tiedFirst" : "phone.roundWinner", { names: Finale.names(reveal.winners) });
    else setT("winner", "phone.counting");
  }

  /* The countdown for screen readers: a polite live region that speaks when voting opens, at 30 and 10
     seconds left, at a pause and at the close; never every second (the visible clock is not live). */
  const MILESTONES = [30, 10];
  let said = "";            // what the live region said last: "<round>:open", ":30", ":10", ":paused", ":closed"
  let saidLeft = Infinity;  // the seconds left when it said it
  function announce(what, key, vars, left) {
    if (said === what) return;
    said = what;
    saidLeft = left === undefined ? Infinity : left;
    setT("countdown-live", key, vars);
  }

  function tick() {
    if (!state) return;
    const node = document.getElementById("countdown");
    node.classList.remove("soon");  // set again below while the last ten seconds run
    const round = state.round + ":";
    if (state.phase === "voting" && state.paused && state.paused.remaining !== null) {
      tx(node, "phone.pausedLeft", { time: formatCountdown(state.paused.remaining) });
      announce(round + "paused", "live.paused", undefined, state.paused.remaining);
    } else if (state.phase === "voting" && state.deadline !== null) {
      const left = state.deadline - link.serverNow();
      if (left > 0) tx(node, "phone.closesIn", { time: formatCountdown(left) }); else tx(node, "countdown.closed");
      node.classList.toggle("soon", left > 0 && left <= 10);
      const fresh = !said.startsWith(round) || [round + "paused", round + "closed"].includes(said);
      const mark = MILESTONES.find((m) => left <= m && saidLeft > m);
      if (left <= 0) announce(round + "closed", "countdown.closed");
      else if (fresh) announce(round + "open", "live.open", { time: formatCountdown(left) }, left);
      else if (mark) announce(round + mark, "live.left", { count: mark }, left);
      if (left <= 0) renderVotes();
    } else if (state.phase && state.answers.length) {
      if (["closed", "final"].includes(state.phase)) {
        tx(node, "countdown.closed");
        if (said.startsWith(round)) announce(round + "closed", "countdown.closed");
      } else setText("countdown", "");
      renderVotes();
    } else {
      setText("countdown", "");
    }
  }

  Finale.onLanguage(() => { if (state) render(); });
  setInterval(tick, 250);
})();
