/* A panel judge's page: 0-10 per criterion for each anonymised answer; submit, revise, see what is saved. */
"use strict";

(() => {
  const { el, setText, setT, t, tx, clear } = Finale;
  const you = document.getElementById("you");
  const roundNo = document.getElementById("round-no");
  const phase = document.getElementById("phase");
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
      setT("notice", "judge.saved", { label: msg.label });
      const form = document.querySelector('form.scores[data-label="' + msg.label + '"]');
      if (form) delete form.dataset.dirty;
    }
    else if (msg.type === "error") { setText("notice", Finale.errorText(msg)); }
  }

  function submit(label, form) {
    const scores = {};
    for (const c of state.criteria) {
      const input = form.querySelector('input[name="' + c.id + '"]');
      const value = Number(input.value);
      if (input.value === "" || !(value >= 0 && value <= 10)) {
        setT("notice", "judge.needsScore", { label: label, criterion: c.id });
        input.focus();
        return;
      }
      scores[c.id] = value;
    }
    if (!link.send({ type: "scores", round: state.round, label: label, scores: scores, id: Finale.messageId() })) {
      setT("notice", "judge.offline");
    } else {
      setT("notice", "judge.saving", { label: label });
    }
  }

  function savedText(node, saved) {
    if (!saved) return tx(node, "judge.notScored");
    return tx(node, "judge.savedScores", { scores: state.criteria.map((c) => c.id + " " + saved[c.id]).join(" · ") });
  }

  /* "Saved 2 of 5: A, B · still to score: C, D, E" -- what this judge has left to do. */
  function renderProgress() {
    const labels = state.answers.map((a) => a.label);
    if (!labels.length) {
      setT("progress", state.round ? "judge.answersSoon" : "judge.keepOpen");
      return;
    }
    const done = labels.filter((l) => state.saved[l]);
    const missing = labels.filter((l) => !state.saved[l]);
    const node = document.getElementById("progress");
    node.dataset.complete = missing.length ? "no" : "yes";
    if (missing.length) {
      tx(node, done.length ? "judge.progress" : "judge.progressNone",
        { done: done.length, count: labels.length, labels: done.join(", "), missing: missing.join(", ") });
    } else tx(node, state.locked ? "judge.allScored" : "judge.allScoredRevise", { count: labels.length });
    for (const li of document.querySelectorAll("#answers li")) {
      li.classList.toggle("done", Boolean(state.saved[li.dataset.label]));
    }
  }

  function render() {
    setText("event", state.event);
    tx(document.getElementById("who"), "judge.scoringAsName", { name: you });
    setText("you", state.you);
    tx(document.getElementById("round-kicker"), "judge.kicker", { round: roundNo, phase: phase });
    setText("round-no", state.round || "–");
    setT("phase", "phase." + (state.phase || "none"));
    if (state.prompt) setText("prompt", state.prompt); else setT("prompt", "judge.waiting");
    const list = document.getElementById("answers");
    const key = Finale.answersKey(state);
    if (key !== layoutKey) {
      layoutKey = key;
      clear(list);
      for (const a of state.answers) {
        const form = Finale.attr(el("form", { class: "scores", "data-label": a.label }), "aria-label", "judge.formLabel", { label: a.label });
        for (const c of state.criteria) {
          const id = "s-" + a.label + "-" + c.id;
          form.append(el("div", { class: "field" },
            el("label", { for: id }, c.id, el("small", {}, c.description)),
            Finale.attr(el("input", { id: id, name: c.id, type: "number", min: 0, max: 10, step: 0.5, inputmode: "decimal",
                                      required: true }), "placeholder", "judge.range")));
        }
        form.append(tx(el("button", { type: "submit", class: "primary" }), "judge.save", { label: a.label }));
        form.append(el("p", { class: "saved", "data-saved": a.label }));
        form.append(tx(el("p", { class: "dirty", role: "status" }), "judge.dirty"));
        form.addEventListener("submit", (event) => { event.preventDefault(); submit(a.label, form); });
        form.addEventListener("input", () => { form.dataset.dirty = "1"; });
        const timing = Finale.timingText(a.timing).join(" · ");
        list.append(el("li", { class: "answer", "data-label": a.label },
          tx(el("h3", { class: "label" }), "answer.label", { label: a.label }),
          timing ? el("p", { class: "timing" }, timing) : null,
          ...Finale.answerBody(a), form));
      }
      fillSaved(true);
    } else {
      fillSaved(false);
    }
    for (const node of list.querySelectorAll("form input, form button")) node.disabled = !state.open;
    renderProgress();
    if (state.locked) setT("notice", "judge.locked");
    else if (!state.open && state.round) setT("notice", "judge.notOpen");
  }

  function fillSaved(intoInputs) {
    for (const form of document.querySelectorAll("form.scores")) {
      const label = form.dataset.label;
      const saved = state.saved[label];
      const line = form.querySelector(".saved");
      savedText(line, saved);
      line.dataset.state = saved ? "saved" : "missing";
      if (saved && intoInputs) {
        for (const c of state.criteria) form.querySelector('input[name="' + c.id + '"]').value = saved[c.id];
      }
    }
  }
  Finale.onLanguage(() => { if (state) render(); });
})();
