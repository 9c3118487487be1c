/* A panel judge's page: 0-10 per criterion for each anonymised answer; submit, revise, see what is saved. */
"use strict";

(() => {
  const { el, setText, clear } = Finale;
  const token = decodeURIComponent(location.pathname.split("/")[2] || "");
  let state = null;
  let layoutKey = "";

  const link = new Finale.Link({
    hello: () => ({ type: "hello", role: "judge", device_id: Finale.deviceId(), token: token }),
    onMessage: handle,
    onStatus: Finale.bindStatus("status"),
  });

  function handle(msg) {
    if (msg.type === "state") { state = msg; render(); }
    else if (msg.type === "ack") { setText("notice", "Saved scores for answer " + msg.label + "."); }
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
    return "Saved: " + state.criteria.map((c) => c.id + " " + saved[c.id]).join(" · ");
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
            el("input", { id: id, name: c.id, type: "number", min: 0, max: 10, step: 0.5, inputmode: "decimal",
                          required: true })));
        }
        form.append(el("button", { type: "submit", class: "primary" }, "Save scores for " + a.label));
        form.append(el("p", { class: "saved", "data-saved": a.label }));
        form.addEventListener("submit", (event) => { event.preventDefault(); submit(a.label, form); });
        list.append(el("li", { class: "answer", "data-label": a.label },
          el("h3", { class: "label" }, "Answer " + a.label),
          el("p", { class: "text" }, a.status === "ok" ? a.text : "(no answer: " + a.status + ")"), form));
      }
      fillSaved(true);
    } else {
      fillSaved(false);
    }
    for (const node of list.querySelectorAll("input, button")) node.disabled = !state.open;
    if (state.locked) setText("notice", "This round is final; scores are locked.");
    else if (!state.open && state.round) setText("notice", "Scores open once the answers are in.");
  }

  function fillSaved(intoInputs) {
    for (const form of document.querySelectorAll("form.scores")) {
      const label = form.dataset.label;
      const saved = state.saved[label];
      form.querySelector(".saved").textContent = savedText(saved);
      if (saved && intoInputs) {
        for (const c of state.criteria) form.querySelector('input[name="' + c.id + '"]').value = saved[c.id];
      }
    }
  }
})();
