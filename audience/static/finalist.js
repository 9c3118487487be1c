/* A finalist's tuning page: edit system prompt, temperature and max tokens in draft; locked once asked. */
"use strict";

(() => {
  const { el, setText, setT, tx, clear } = Finale;
  const you = document.getElementById("you");
  const roundNo = document.getElementById("round-no");
  const phase = document.getElementById("phase");
  const mineRound = document.getElementById("mine-round");
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
    setT("prompt-count", "finalist.count", { n: String(promptBox.value.length), max: promptBox.maxLength > 0 ? String(promptBox.maxLength) : "–" });
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
    setT("notice", link.send(msg) ? "finalist.saving" : "finalist.offline");
  });

  function handle(msg) {
    if (msg.type === "state") { state = msg; render(); }
    else if (msg.type === "ack") { dirty = false; showDirty(); setT("notice", "finalist.saved", { version: String(msg.version) }); }
    else if (msg.type === "error") { setT("notice", "finalist.notSaved", { reason: Finale.errorText(msg) }); }
  }

  /* Their own answer to the current round: what the settings in use produced, and its points once final. */
  function renderMine() {
    const mine = state.my_answer;
    document.getElementById("mine").hidden = !mine;
    if (!mine) return;
    tx(document.getElementById("mine-title"), "finalist.mine", { round: mineRound });
    setText("mine-round", mine.round);
    const parts = [Finale.t("status." + mine.status), ...Finale.timingText(mine.timing)];
    if (mine.total !== null && mine.total !== undefined) parts.push(Finale.t("points", { points: Finale.num(mine.total, 1) }));
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
    tx(document.getElementById("who"), "finalist.who", { name: you, round: roundNo, phase: phase });
    setText("you", state.you);
    setText("round-no", state.round || "–");
    setT("phase", "phase." + (state.phase || "none"));
    const lim = state.limits;
    document.getElementById("system_prompt").maxLength = lim.system_prompt_chars;
    setT("prompt-limit", "finalist.upTo", { count: lim.system_prompt_chars });
    setT("temp-limit", "finalist.range", { min: lim.temperature[0], max: lim.temperature[1] });
    setT("tokens-limit", "finalist.range", { min: lim.max_tokens[0], max: lim.max_tokens[1] });
    if (shownVersion !== state.settings.version && !dirty) {
      shownVersion = state.settings.version;
      document.getElementById("system_prompt").value = state.settings.system_prompt;
      document.getElementById("temperature").value = state.settings.temperature;
      document.getElementById("max_tokens").value = state.settings.max_tokens;
    }
    const lock = document.getElementById("lock");
    lock.hidden = !state.locked;
    if (state.locked) tx(lock, "finalist.locked", { round: state.round, phase: Finale.t("phase." + state.phase) });
    else setText("lock", "");
    lock.dataset.locked = state.locked ? "yes" : "no";
    for (const node of form.querySelectorAll("input, textarea, button")) node.disabled = state.locked;
    showDirty();
    document.getElementById("open-note").hidden = state.locked;
    renderMine();
    const list = document.getElementById("history");
    clear(list);
    for (const h of state.history.slice().reverse()) {
      const when = new Date(h.at * 1000).toLocaleTimeString(I18n.lang());
      const current = h.version === state.settings.version;
      list.append(el("li", { value: h.version, class: current ? "current" : "" },
        el("p", { class: "meta" }, current ? tx(el("strong", { class: "in-use" }), "finalist.inUse") : "",
          tx(el("span"), "finalist.version", { version: String(h.version), when: when, temperature: h.temperature,
                                              tokens: h.max_tokens, actor: h.actor })),
        h.system_prompt ? el("p", { class: "text", dir: "auto" }, h.system_prompt)
          : tx(el("p", { class: "text" }), "finalist.emptyPrompt")));
    }
  }
  Finale.onLanguage(() => { if (state) render(); });
})();
