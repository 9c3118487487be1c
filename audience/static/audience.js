/* The audience's phone: see the answers, vote, see the ack, change the vote until the close, see the reveal. */
"use strict";

(() => {
  const { el, setText, clear, formatCountdown } = Finale;
  const PENDING_KEY = "finale.pendingVote";
  const device = Finale.deviceId();
  let state = null;
  let myVote = null;        // {round, label} acknowledged by the hub
  let pending = loadPending();
  let answersKey = "";

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
      notice(problem.message);
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
    onMessage: handle,
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
      if (pending.round === state.round) notice("Your vote for " + pending.label + " did not reach us before the close.");
      savePending(null);
      stopResending();
    } else if (pending) {
      scheduleResend();  // paused, or the countdown has not caught up: look again later
    }
  }

  function handle(msg) {
    if (msg.type === "state") {
      const newRound = !state || state.round !== msg.round;
      if (state && (newRound || state.phase !== msg.phase)) notice("");  // "vote received" belongs to the poll
      state = msg;
      if ("credential" in msg) keepCredential(msg);
      if ("my_vote" in msg) myVote = msg.my_vote ? { round: msg.round, label: msg.my_vote } : null;
      else if (newRound) myVote = null;
      render();
      resendPending();
    } else if (msg.type === "ack") {
      if (pending && pending.id === msg.id) { savePending(null); stopResending(); }
      myVote = { round: msg.round, label: msg.label };
      notice("Vote received: " + msg.label + " ✓");
      renderVotes();
    } else if (msg.type === "error") {
      const keep = ["unavailable", "rate_limited"].includes(msg.code);  // not stored yet: it will be resent
      const mine = pending && msg.id === pending.id;
      if (mine) {
        if (keep) scheduleResend();
        else { savePending(null); stopResending(); }
      }
      notice(mine && keep ? "Your vote for " + pending.label + " is not stored yet (" + msg.message +
        "); this phone keeps it and resends it." : msg.message);
      renderVotes();
    }
  }

  function notice(text) { setText("notice", text); }

  function vote(label) {
    if (state && state.phase === "voting" && state.paused) {
      notice("The MC paused voting: vote again when the countdown resumes."); return;
    }
    if (!state || !votingOpen()) { notice("Voting is closed."); return; }
    const p = { round: state.round, label: label, id: Finale.messageId(), cast_at: link.serverNow() };
    savePending(p);
    stopResending();  // a new choice starts its own resend backoff
    notice(link.send(voteFrame(p))
      ? "Sending your vote for " + label + "…" : "Offline: your vote for " + label + " will be sent on reconnect.");
    scheduleResend();
    renderVotes();
  }

  /* What the phone says while there is nothing to vote on, phase by phase. */
  const WAITING = {
    none: ["Waiting for the show to start", "Keep this page open. The answers appear here when the MC opens voting."],
    draft: ["The next question is coming up", "Keep this page open. You vote once every finalist has answered."],
    asking: ["The finalists' models are answering", "Voting opens once the answers are in and judged."],
    answered: ["The answers are in", "The judges are scoring them. Waiting for the MC to open voting."],
    judging: ["The judges are scoring", "Waiting for the MC to open voting."],
    void: ["This round was cancelled", "Keep this page open for the next round."],
  };

  function render() {
    setText("event", state.event || "Finale");
    const showRound = state.answers && state.answers.length > 0;
    document.getElementById("waiting").hidden = showRound;
    document.getElementById("round").hidden = !showRound;
    if (!showRound) {
      const [title, text] = WAITING[state.phase || "none"] || WAITING.none;
      setText("waiting-title", state.round ? "Round " + state.round + ": " + title.charAt(0).toLowerCase() + title.slice(1) : title);
      setText("waiting-text", text);
      const preview = document.getElementById("waiting-prompt");
      preview.hidden = !(state.round && state.prompt);
      preview.textContent = state.prompt || "";
    }
    setText("round-no", state.round);
    setText("prompt", state.prompt || "");
    const key = Finale.answersKey(state);
    if (key !== answersKey) {
      answersKey = key;
      const list = document.getElementById("answers");
      clear(list);
      for (const a of state.answers) {
        list.append(el("li", { class: "answer", "data-label": a.label },
          el("h3", { class: "label" }, "Answer " + a.label, el("span", { class: "who-was" })),
          ...Finale.answerBody(a),
          el("button", { type: "button", class: "vote", "data-label": a.label, "aria-label": "Vote for answer " + a.label,
                         onclick: () => vote(a.label) }, "Vote " + a.label)));
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
    setText("champion-kicker", top.heading || "And the winner is");
    setText("champion-title", top.winners.join(" & "));
    const pts = top.total === null ? "" : top.total.toFixed(1) + " points";
    setText("champion-points", top.final ? (pts ? pts + ". " : "") + "Thank you for voting!"
      : [pts, top.moment].filter(Boolean).join(" · "));
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
      button.textContent = mine === label ? (open ? "Your vote ✓" : "You voted " + label + " ✓")
        : sending ? "Sending…" : "Vote " + label;
      button.closest("li").classList.toggle("chosen", mine === label);
    }
    let hint;
    if (state.phase === "voting" && state.paused) {
      hint = "The MC paused the show. The countdown continues when the show resumes.";
    } else if (open) {
      hint = mine ? "Your vote for " + mine + " is counted. You can change it until voting closes."
        : "Read the answers, then tap the one you think is best. You can change your vote until voting closes.";
    } else {
      hint = mine ? "Your vote for " + mine + " was counted." : "You did not vote in this round.";
    }
    setText("hint", hint);
  }

  function renderReveal() {
    const reveal = state.reveal;
    document.getElementById("reveal").hidden = !reveal;
    const names = {};
    if (reveal) for (const row of reveal.mapping) names[row.label] = row.name;
    for (const node of document.querySelectorAll("#answers li")) {
      node.querySelector(".who-was").textContent = names[node.dataset.label] ? " · " + names[node.dataset.label] : "";
    }
    if (!reveal) return;
    const list = document.getElementById("mapping");
    clear(list);
    for (const row of reveal.mapping) {
      const mine = myVote && myVote.round === state.round && myVote.label === row.label;
      list.append(el("li", {}, el("strong", {}, row.label), " was ", el("span", { class: "name" }, row.name),
        " · " + row.votes + (row.votes === 1 ? " vote" : " votes"),
        row.total === null ? "" : " · " + row.total.toFixed(1) + " points",
        mine ? el("span", { class: "yours" }, " (your vote)") : ""));
    }
    setText("winner", reveal.winners.length ? (reveal.tied ? "Tied first: " : "Round winner: ") + reveal.winners.join(" & ")
      : "The round's points are still being counted.");
  }

  function tick() {
    if (!state) return;
    const node = document.getElementById("countdown");
    node.classList.remove("soon");  // set again below while the last ten seconds run
    if (state.phase === "voting" && state.paused && state.paused.remaining !== null) {
      node.textContent = "Paused · " + formatCountdown(state.paused.remaining) + " left";
    } else if (state.phase === "voting" && state.deadline !== null) {
      const left = state.deadline - link.serverNow();
      node.textContent = left > 0 ? "Voting closes in " + formatCountdown(left) : "Voting closed";
      node.classList.toggle("soon", left > 0 && left <= 10);
      if (left <= 0) renderVotes();
    } else if (state.phase && state.answers.length) {
      node.textContent = ["closed", "final"].includes(state.phase) ? "Voting closed" : "";
      renderVotes();
    } else {
      node.textContent = "";
    }
  }

  setInterval(tick, 250);
})();
