/* A finalist's tuning page: edit system prompt, temperature and max tokens in draft; locked once asked. */
"use strict";

(() => {
  const { el, setText, clear } = Finale;
  const token = Finale.linkToken();
  let state = null;
  let shownVersion = null;
  let dirty = false;
  const form = document.getElementById("settings");

  const link = new Finale.Link({
    hello: () => ({ type: "hello", role: "finalist", device_id: Finale.deviceId(), token: token }),
    onMessage: handle,
    onStatus: Finale.bindStatus("status"),
  });

  const promptBox = document.getElementById("system_prompt");
  function showDirty() {
    document.getElementById("dirty").hidden = !dirty || !state || state.locked;
    setText("prompt-count", promptBox.value.length + " / " + (promptBox.maxLength > 0 ? promptBox.maxLength : "–") + " characters");
  }
  for (const input of form.querySelectorAll("input, textarea")) {
    input.addEventListener("input", () => { dirty = true; showDirty(); });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state) return;  // a locked form is disabled; the hub refuses a save anyway and says why
    const msg = {
      type: "settings", id: Finale.messageId(),
      system_prompt: document.getElementById("system_prompt").value,
      temperature: Number(document.getElementById("temperature").value),
      max_tokens: Number(document.getElementById("max_tokens").value),
    };
    setText("notice", link.send(msg) ? "Saving…" : "Offline: reconnecting, then save again.");
  });

  function handle(msg) {
    if (msg.type === "state") { state = msg; render(); }
    else if (msg.type === "ack") { dirty = false; showDirty(); setText("notice", "Saved as version " + msg.version + "."); }
    else if (msg.type === "error") { setText("notice", "Not saved: " + msg.message); }
  }

  /* Their own answer to the current round: what the settings in use produced, and its points once final. */
  function renderMine() {
    const mine = state.my_answer;
    document.getElementById("mine").hidden = !mine;
    if (!mine) return;
    setText("mine-round", mine.round);
    const parts = [mine.status, ...Finale.timingText(mine.timing)];
    if (mine.total !== null && mine.total !== undefined) parts.push(mine.total.toFixed(1) + " points");
    setText("mine-meta", parts.join(" · "));
    const key = mine.round + "|" + mine.status + "|" + mine.text.length;
    const body = document.getElementById("mine-body");
    if (body.dataset.key === key) return;
    body.dataset.key = key;
    clear(body);
    body.append(...Finale.answerBody(mine));
  }

  function render() {
    setText("event", state.event);
    setText("you", state.you);
    setText("round-no", state.round || "–");
    setText("phase", state.phase || "not started");
    const lim = state.limits;
    document.getElementById("system_prompt").maxLength = lim.system_prompt_chars;
    setText("prompt-limit", "(up to " + lim.system_prompt_chars + " characters)");
    setText("temp-limit", "(" + lim.temperature[0] + "–" + lim.temperature[1] + ")");
    setText("tokens-limit", "(" + lim.max_tokens[0] + "–" + lim.max_tokens[1] + ")");
    if (shownVersion !== state.settings.version && !dirty) {
      shownVersion = state.settings.version;
      document.getElementById("system_prompt").value = state.settings.system_prompt;
      document.getElementById("temperature").value = state.settings.temperature;
      document.getElementById("max_tokens").value = state.settings.max_tokens;
    }
    const lock = document.getElementById("lock");
    lock.hidden = !state.locked;
    lock.textContent = state.locked ? "Locked: " + state.lock_reason + ". You can edit again when the next round is a draft." : "";
    lock.dataset.locked = state.locked ? "yes" : "no";
    for (const node of form.querySelectorAll("input, textarea, button")) node.disabled = state.locked;
    showDirty();
    document.getElementById("open-note").hidden = state.locked;
    renderMine();
    const list = document.getElementById("history");
    clear(list);
    for (const h of state.history.slice().reverse()) {
      const when = new Date(h.at * 1000).toLocaleTimeString();
      const current = h.version === state.settings.version;
      list.append(el("li", { value: h.version, class: current ? "current" : "" },
        el("p", { class: "meta" }, current ? el("strong", { class: "in-use" }, "in use · ") : "",
          "v" + h.version + " · " + when + " · temperature " + h.temperature +
          " · max tokens " + h.max_tokens + " · by " + h.actor),
        el("p", { class: "text" }, h.system_prompt || "(empty system prompt)")));
    }
  }
})();
