/* A panel judge's page: 0-10 per criterion for each anonymised answer; submit, revise, see what is saved. */
"use strict";

(() => {
  const { el, setText, clear } = Finale;
  const token = Finale.linkToken();
  let state = null;
  let layoutKey = "";

  const link = new Finale.Link({
    hello: () => ({ type: "hello", role: "judge", device_id: Finale.deviceId(), token: token }),
    onMessage: handle,
    onStatus: Finale.bindStatus("status"),
  });

  function handle(msg) {
    if (msg.type === "state") { state = msg; render(); }
    else if (msg.type === "ack") {
      setText("notice", "Saved scores for answer " + msg.label + ".");
      const form = document.querySelector('form.scores[data-label="' + msg.label + '"]');
      if (form) delete form.dataset.dirty;
    }
    else if (msg.type === "error") { setText("notice", msg.message); }
  }

  function submit(label, form) {
    const scores = {};
    for (const c of state.criteria) {
      const input = form.querySelector('input[name="' + c.id + '"]');
      const value = Number(input.value);
      if (input.value === "" || !(value >= 0 && value <= 10)) {
        setText("notice", "Answer " + label + ": " + c.id + " needs a score from 0 to 10.");
        input.focus();
        return;
      }
      scores[c.id] = value;
    }
    if (!link.send({ type: "scores", round: state.round, label: label, scores: scores, id: Finale.messageId() })) {
      setText("notice", "Offline: reconnecting, then submit again.");
    } else {
      setText("notice", "Saving answer " + label + "…");
    }
  }

  function savedText(saved) {
    if (!saved) return "Not scored yet";
    return "Saved ✓ " + state.criteria.map((c) => c.id + " " + saved[c.id]).join(" · ");
  }

  /* "Saved 2 of 5: A, B · still to score: C, D, E" -- what this judge has left to do. */
  function renderProgress() {
    const labels = state.answers.map((a) => a.label);
    if (!labels.length) {
      setText("progress", state.round ? "The answers appear here once every finalist has answered." :
        "Keep this page open: the next round's answers appear here.");
      return;
    }
    const done = labels.filter((l) => state.saved[l]);
    const missing = labels.filter((l) => !state.saved[l]);
    const node = document.getElementById("progress");
    node.dataset.complete = missing.length ? "no" : "yes";
    node.textContent = missing.length
      ? "Saved " + done.length + " of " + labels.length + (done.length ? ": " + done.join(", ") : "") +
        " · still to score: " + missing.join(", ")
      : "All " + labels.length + " answers scored." + (state.locked ? "" : " You can revise them until the round is final.");
    for (const li of document.querySelectorAll("#answers li")) {
      li.classList.toggle("done", Boolean(state.saved[li.dataset.label]));
    }
  }

  function render() {
    setText("event", state.event);
    setText("you", state.you);
    setText("round-no", state.round || "–");
    setText("phase", state.phase || "no round");
    setText("prompt", state.prompt || "Waiting for a round");
    const list = document.getElementById("answers");
    const key = Finale.answersKey(state);
    if (key !== layoutKey) {
      layoutKey = key;
      clear(list);
      for (const a of state.answers) {
        const form = el("form", { class: "scores", "data-label": a.label, "aria-label": "Scores for answer " + a.label });
        for (const c of state.criteria) {
          const id = "s-" + a.label + "-" + c.id;
          form.append(el("div", { class: "field" },
            el("label", { for: id }, c.id, el("small", {}, c.description)),
            el("input", { id: id, name: c.id, type: "number", min: 0, max: 10, step: 0.5, inputmode: "decimal", placeholder: "0–10",
                          required: true })));
        }
        form.append(el("button", { type: "submit", class: "primary" }, "Save scores for " + a.label));
        form.append(el("p", { class: "saved", "data-saved": a.label }));
        form.append(el("p", { class: "dirty", role: "status" }, "Changed: press Save to keep these scores."));
        form.addEventListener("submit", (event) => { event.preventDefault(); submit(a.label, form); });
        form.addEventListener("input", () => { form.dataset.dirty = "1"; });
        const timing = Finale.timingText(a.timing).join(" · ");
        list.append(el("li", { class: "answer", "data-label": a.label },
          el("h3", { class: "label" }, "Answer " + a.label),
          timing ? el("p", { class: "timing" }, timing) : null,
          ...Finale.answerBody(a), form));
      }
      fillSaved(true);
    } else {
      fillSaved(false);
    }
    for (const node of list.querySelectorAll("form input, form button")) node.disabled = !state.open;
    renderProgress();
    if (state.locked) setText("notice", "This round is final; scores are locked.");
    else if (!state.open && state.round) setText("notice", "Scores open once the answers are in.");
  }

  function fillSaved(intoInputs) {
    for (const form of document.querySelectorAll("form.scores")) {
      const label = form.dataset.label;
      const saved = state.saved[label];
      const line = form.querySelector(".saved");
      line.textContent = savedText(saved);
      line.dataset.state = saved ? "saved" : "missing";
      if (saved && intoInputs) {
        for (const c of state.criteria) form.querySelector('input[name="' + c.id + '"]').value = saved[c.id];
      }
    }
  }
})();
