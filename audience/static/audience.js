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

  const link = new Finale.Link({
    hello: () => ({ type: "hello", role: "audience", device_id: device }),
    onMessage: handle,
    onStatus: Finale.bindStatus("status"),
  });

  function votingOpen() {
    return state && state.voting_open && state.deadline !== null && link.serverNow() <= state.deadline;
  }

  function resendPending() {
    if (pending && state && pending.round === state.round && votingOpen()) {
      link.send({ type: "vote", round: pending.round, label: pending.label, id: pending.id });
    } else if (pending && state && (pending.round !== state.round || state.phase !== "voting")) {
      if (pending.round === state.round) notice("Your vote for " + pending.label + " did not reach us before the close.");
      savePending(null);
    }
  }

  function handle(msg) {
    if (msg.type === "state") {
      const newRound = !state || state.round !== msg.round;
      state = msg;
      if ("my_vote" in msg) myVote = msg.my_vote ? { round: msg.round, label: msg.my_vote } : null;
      else if (newRound) myVote = null;
      render();
      resendPending();
    } else if (msg.type === "ack") {
      if (pending && pending.id === msg.id) savePending(null);
      myVote = { round: msg.round, label: msg.label };
      notice("Vote received: " + msg.label + ". You can change it until voting closes.");
      renderVotes();
    } else if (msg.type === "error") {
      if (pending && msg.id === pending.id) savePending(null);
      notice(msg.message);
      renderVotes();
    }
  }

  function notice(text) { setText("notice", text); }

  function vote(label) {
    if (!state || !votingOpen()) { notice("Voting is closed."); return; }
    const p = { round: state.round, label: label, id: Finale.messageId() };
    savePending(p);
    notice(link.send({ type: "vote", round: p.round, label: p.label, id: p.id })
      ? "Sending your vote for " + label + "…" : "Offline: your vote for " + label + " will be sent on reconnect.");
    renderVotes();
  }

  function render() {
    setText("event", state.event || "Finale");
    const showRound = state.answers && state.answers.length > 0;
    document.getElementById("waiting").hidden = showRound;
    document.getElementById("round").hidden = !showRound;
    if (!showRound) {
      setText("waiting-text", state.round ? "Round " + state.round + ": " + state.prompt : "Keep this page open.");
    }
    setText("round-no", state.round);
    setText("prompt", state.prompt || "");
    const key = Finale.answersKey(state);
    if (key !== answersKey) {
      answersKey = key;
      const list = document.getElementById("answers");
      clear(list);
      for (const a of state.answers) {
        const text = a.status === "ok" ? a.text : "(no answer: " + a.status + ")";
        list.append(el("li", { class: "answer", "data-label": a.label },
          el("h3", { class: "label" }, "Answer " + a.label),
          el("p", { class: "text" }, text),
          el("button", { type: "button", class: "vote", "data-label": a.label, "aria-label": "Vote for answer " + a.label,
                         onclick: () => vote(a.label) }, "Vote " + a.label)));
      }
    }
    renderVotes();
    renderReveal();
    tick();
  }

  function renderVotes() {
    if (!state) return;
    const open = votingOpen();
    for (const button of document.querySelectorAll("button.vote")) {
      const label = button.dataset.label;
      const mine = myVote && myVote.round === state.round && myVote.label === label;
      const sending = pending && pending.round === state.round && pending.label === label;
      button.disabled = !open;
      button.setAttribute("aria-pressed", mine ? "true" : "false");
      button.textContent = mine ? "Your vote ✓" : sending ? "Sending…" : "Vote " + label;
      button.closest("li").classList.toggle("chosen", Boolean(mine));
    }
  }

  function renderReveal() {
    const reveal = state.reveal;
    document.getElementById("reveal").hidden = !reveal;
    if (!reveal) return;
    const list = document.getElementById("mapping");
    clear(list);
    for (const row of reveal.mapping) {
      list.append(el("li", {}, el("strong", {}, row.label), " was ", el("span", { class: "name" }, row.name),
        row.total === null ? "" : " · " + row.total.toFixed(1) + " points"));
    }
    setText("winner", reveal.winners.length ? "Round winner: " + reveal.winners.join(" & ") : "");
  }

  function tick() {
    if (!state) return;
    const node = document.getElementById("countdown");
    if (state.phase === "voting" && state.paused && state.paused.remaining !== null) {
      node.textContent = "Paused · " + formatCountdown(state.paused.remaining) + " left";
    } else if (state.phase === "voting" && state.deadline !== null) {
      const left = state.deadline - link.serverNow();
      node.textContent = left > 0 ? "Voting closes in " + formatCountdown(left) : "Voting closed";
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
