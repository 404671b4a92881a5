// Lotsa web chat: anonymous, no cookies. Speaks the protocol in docs/protocol.md.
"use strict";
(() => {
  const STRINGS = {
    sv: {
      quickExit: "Lämna sidan snabbt", langToggle: "English", langToggleLabel: "Byt språk till engelska",
      danger: "Är du i fara just nu?", call112: "Ring 112.",
      escHint: "Tips: tryck på Esc för att lämna sidan snabbt.",
      connecting: "Ansluter…", reconnecting: "Anslutningen bröts. Ansluter igen…", connected: "Ansluten",
      queued: "Du står i kö. En samtalsstödjare svarar så snart som möjligt.",
      queuePos: "Du är nummer {n} i kön",
      waitAbout: "Beräknad väntetid: cirka {m} min.", waitUnknown: "Vi kan inte uppskatta väntetiden just nu.",
      waitClosed: "Vi har stängt just nu. Du står kvar i kön.", waitOpens: "Vi öppnar {when}.",
      waitDanger: "I fara? Ring 112.",
      active: "En samtalsstödjare är här", closed: "Samtalet är avslutat. Du kan skriva igen om du vill.",
      typing: "Skriver…", inputLabel: "Ditt meddelande", placeholder: "Skriv här…", send: "Skicka",
      privacy: "Du är anonym. Du behöver inte skriva ditt namn.", choicesLabel: "Svarsalternativ",
      you: "Du", bot: "Automatiskt svar", counsellor: "Samtalsstödjare", sending: "Skickas…",
      notSent: "Inte skickat",
      errorGeneric: "Något gick fel. Försök igen.",
      erase: "Radera samtalet", eraseConfirm: "Tryck igen för att radera allt",
      erased: "Ditt samtal är raderat hos oss. Du kan börja ett nytt när du vill.",
    },
    en: {
      quickExit: "Leave quickly", langToggle: "Svenska", langToggleLabel: "Change language to Swedish",
      danger: "In danger right now?", call112: "Call 112.",
      escHint: "Tip: press Esc to leave the page quickly.",
      connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…", connected: "Connected",
      queued: "You are in the queue. A counsellor will answer as soon as possible.",
      queuePos: "You are number {n} in the queue",
      waitAbout: "Estimated wait: about {m} min.", waitUnknown: "We cannot estimate the wait right now.",
      waitClosed: "We are closed right now. You stay in the queue.", waitOpens: "We open {when}.",
      waitDanger: "In danger? Call 112.",
      active: "A counsellor is here", closed: "The conversation has ended. You can write again if you want.",
      typing: "Typing…", inputLabel: "Your message", placeholder: "Write here…", send: "Send",
      privacy: "You are anonymous. You do not need to give your name.", choicesLabel: "Answer options",
      you: "You", bot: "Automatic reply", counsellor: "Counsellor", sending: "Sending…", notSent: "Not sent",
      errorGeneric: "Something went wrong. Please try again.",
      erase: "Delete the conversation", eraseConfirm: "Press again to delete everything",
      erased: "Your conversation has been deleted on our side. You can start a new one whenever you want.",
    },
  };
  const TOKEN_KEY = "lotsa.token", PENDING_KEY = "lotsa.pending", LANG_KEY = "lotsa.lang";
  const AUTHOR_LABELS = { contact: "you", bot: "bot", counsellor: "counsellor", system: null };
  const CID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const ui = {
    transcript: $("transcript"), status: $("status"), typing: $("typing"), alert: $("alert"),
    composer: $("composer"), input: $("input"), quickExit: $("quick-exit"), langToggle: $("lang-toggle"),
    erase: $("erase"),
  };

  let lang = pickLang();
  let ws = null, connected = false, everConnected = false; // connected: `welcome` seen on this socket
  let state = null, position = null, wait = null, leaving = false;
  let backoff = 1000, reconnectTimer = null;
  let maxId = 0, choicesEl = null;
  let lastTypingSent = 0, typingTimer = null, alertTimer = null, pinned = true;
  const shownIds = new Set();
  // -- storage (sessionStorage may be unavailable in some private modes) ---------------------
  function load(key) { try { return sessionStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) {
    try {
      if (value === null) sessionStorage.removeItem(key); else sessionStorage.setItem(key, value);
    } catch (e) { /* storage unavailable: the chat still works, without resume */ }
  }
  function loadPending() { // the person's frames the server has not acknowledged yet, oldest first
    try {
      const list = JSON.parse(load(PENDING_KEY) || "[]");
      return Array.isArray(list) ? list.filter((f) => f && typeof f.cid === "string") : [];
    } catch (e) { return []; }
  }
  function savePending(list) { store(PENDING_KEY, list.length ? JSON.stringify(list) : null); }
  function removePending(cid) { savePending(loadPending().filter((f) => f.cid !== cid)); }
  // -- language ------------------------------------------------------------------------------
  function pickLang() {
    const saved = load(LANG_KEY);
    if (saved === "sv" || saved === "en") return saved;
    return body.dataset.lang === "en" ? "en" : "sv";
  }
  function t(key, vars) {
    const text = STRINGS[lang][key] || STRINGS.sv[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? String(vars[name]) : ""));
  }
  function applyLang() {
    document.documentElement.lang = lang;
    const each = (selector, fn) => document.querySelectorAll(selector).forEach(fn);
    each("[data-i18n]", (n) => { n.textContent = t(n.dataset.i18n); });
    each("[data-i18n-placeholder]", (n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
    each("[data-i18n-label]", (n) => n.setAttribute("aria-label", t(n.dataset.i18nLabel)));
    renderStatus();
  }
  function toggleLang() {
    lang = lang === "sv" ? "en" : "sv";
    store(LANG_KEY, lang);
    applyLang();
    // Nothing stored yet: start over so that the greeting comes in the chosen language.
    if (maxId === 0 && !loadPending().length) { resetTranscript(); restart(); }
  }
  // -- quick exit ----------------------------------------------------------------------------
  function quickExit() {
    const url = body.dataset.quickExit || "about:blank"; // read before the body is emptied
    leaving = true;
    try { sessionStorage.clear(); if (ws) ws.close(); } catch (e) { }
    document.title = "";
    body.replaceChildren();
    location.replace(url);
  }
  // -- helpers -------------------------------------------------------------------------------
  function makeCid() {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    return Array.from(bytes, (b) => CID_ALPHABET[b & 63]).join("");
  }
  const wsUrl = () => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws";
  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  function formatTime(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return "";
    return d.toLocaleTimeString(lang === "sv" ? "sv-SE" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  }
  function scrollDown() { ui.transcript.scrollTop = ui.transcript.scrollHeight; }
  const findByCid = (cid) => Array.from(ui.transcript.children).find((n) => n.dataset.cid === cid) || null;
  // -- status, alert, typing -----------------------------------------------------------------
  function renderStatus() {
    let text;
    if (!connected) text = t(everConnected ? "reconnecting" : "connecting");
    else if (state === "closed") text = t("closed");
    else if (state === "queued") {
      text = [position ? t("queuePos", { n: position }) : t("queued"), waitText()].filter(Boolean).join(". ");
    }
    else if (state === "active") text = t("active");
    else text = t("connected");
    ui.status.textContent = text;
    ui.status.dataset.state = connected ? (state || "new") : "offline";
  }
  function waitText() { // the honest estimate the server sends in `wait` frames (docs/protocol.md)
    if (!wait) return "";
    const parts = [];
    if (!wait.open) {
      parts.push(t("waitClosed"));
      const opens = wait.opens_at ? new Date(wait.opens_at) : null;
      if (opens && !Number.isNaN(opens.getTime())) {
        const when = opens.toLocaleString(lang === "sv" ? "sv-SE" : "en-GB",
          { weekday: "long", hour: "2-digit", minute: "2-digit" });
        parts.push(t("waitOpens", { when }));
      }
    } else if (typeof wait.minutes === "number") parts.push(t("waitAbout", { m: wait.minutes }));
    else parts.push(t("waitUnknown"));
    parts.push(t("waitDanger"));
    return parts.join(" ");
  }
  function setWait(f) {
    wait = f;
    if (typeof f.position === "number") position = f.position;
    renderStatus();
  }
  function setState(newState, newPosition) {
    if (newState) state = newState;
    if (state !== "queued") wait = null;
    position = typeof newPosition === "number" ? newPosition : null;
    if (state === "closed") clearChoices(); // the server greets again: writing starts a new conversation
    renderStatus();
  }
  function showAlert(text) {
    ui.alert.textContent = text || t("errorGeneric");
    ui.alert.hidden = false;
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => { ui.alert.hidden = true; }, 8000);
  }
  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 3000);
  }
  function hideTyping() { clearTimeout(typingTimer); ui.typing.hidden = true; }
  // -- transcript ----------------------------------------------------------------------------
  function buildMsg(author, text, at) {
    const who = author in AUTHOR_LABELS ? author : "system";
    const li = make("li", "msg msg-" + who);
    const labelKey = AUTHOR_LABELS[who];
    if (labelKey) {
      const label = li.appendChild(make("span", "msg-author", t(labelKey)));
      label.dataset.i18n = labelKey;
    }
    li.appendChild(make("p", "msg-text", text));
    const time = make("time", null, formatTime(at));
    if (at) time.dateTime = at;
    li.appendChild(make("span", "msg-meta")).appendChild(time);
    return li;
  }
  function setMsgState(node, key) {
    let span = node.querySelector(".msg-state");
    if (!key) { if (span) span.remove(); return; }
    if (!span) span = node.querySelector(".msg-meta").appendChild(make("span", "msg-state"));
    span.dataset.i18n = key;
    span.textContent = t(key);
  }
  function insertMsg(node) {
    // The person's unacknowledged messages stay at the bottom until the server has them.
    const firstPending = ui.transcript.querySelector(".msg.pending");
    if (firstPending && !node.classList.contains("pending")) ui.transcript.insertBefore(node, firstPending);
    else ui.transcript.appendChild(node);
    scrollDown();
  }
  function markShown(node, id) {
    if (typeof id !== "number") return;
    node.dataset.id = String(id);
    shownIds.add(id);
    if (id > maxId) maxId = id;
  }
  function settle(node, id) {
    node.classList.remove("pending", "failed");
    setMsgState(node, null);
    markShown(node, id);
  }
  function addPendingBubble(cid, text) {
    const node = buildMsg("contact", text, new Date().toISOString());
    node.classList.add("pending");
    node.dataset.cid = cid;
    setMsgState(node, "sending");
    insertMsg(node);
  }
  function isRepeatedGreeting(m) {
    return Array.from(ui.transcript.children).some((n) => !n.dataset.id && !n.dataset.cid
      && n.classList.contains("msg-" + m.author) && n.querySelector(".msg-text").textContent === m.text);
  }
  function addMessage(m) {
    if (typeof m.text !== "string") return;
    if (m.cid) removePending(m.cid);
    if (typeof m.id === "number" && shownIds.has(m.id)) return;
    const own = m.cid ? findByCid(m.cid) : null;
    if (own) {
      const wasPending = own.classList.contains("pending");
      settle(own, m.id);
      if (wasPending) { own.remove(); insertMsg(own); }
      return;
    }
    if (m.id == null && isRepeatedGreeting(m)) return;
    const node = buildMsg(m.author, m.text, m.at);
    markShown(node, m.id);
    if (m.cid) node.dataset.cid = m.cid;
    insertMsg(node);
    if (m.author === "contact") clearChoices(); // answered: the bot asks again if it needs to
    if (m.author === "counsellor") hideTyping();
    if (m.author === "bot" && Array.isArray(m.choices) && m.choices.length) showChoices(node, m.choices);
  }
  function acknowledge(cid, id) {
    removePending(cid);
    const node = findByCid(cid);
    if (node) settle(node, id);
    else if (typeof id === "number" && id > maxId) maxId = id;
  }
  function fail(cid) {
    removePending(cid);
    const node = findByCid(cid);
    if (!node || !node.classList.contains("pending")) return;
    node.classList.replace("pending", "failed");
    setMsgState(node, "notSent");
    if (!ui.input.value) ui.input.value = node.querySelector(".msg-text").textContent;
  }
  function resetTranscript() {
    ui.transcript.replaceChildren();
    shownIds.clear();
    maxId = 0;
    choicesEl = null;
    loadPending().forEach((f) => { if (f.type === "say") addPendingBubble(f.cid, f.text); });
  }
  // -- choices -------------------------------------------------------------------------------
  function clearChoices() { if (choicesEl) choicesEl.remove(); choicesEl = null; }
  function showChoices(msgNode, choices) {
    clearChoices();
    const wrap = make("div", "choices");
    wrap.setAttribute("role", "group");
    wrap.setAttribute("aria-label", t("choicesLabel"));
    choices.filter((c) => c && typeof c.id === "string").forEach((c) => {
      const btn = wrap.appendChild(make("button", "choice", String(c.label == null ? c.id : c.label)));
      btn.type = "button";
      btn.dataset.choice = c.id;
      btn.addEventListener("click", () => sendOwn(btn.textContent, { type: "choose", choice: c.id }));
    });
    choicesEl = msgNode.appendChild(wrap);
    scrollDown();
  }
  // -- sending -------------------------------------------------------------------------------
  function sendRaw(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }
  function resendPending() { loadPending().forEach(sendRaw); }
  function sendOwn(label, frame) { // a `say` or `choose`: shown at once, kept until acknowledged
    frame.cid = makeCid();
    clearChoices();
    addPendingBubble(frame.cid, label);
    savePending(loadPending().concat([frame]));
    if (connected) sendRaw(frame);
  }
  function say() {
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    sendOwn(text, { type: "say", text });
    ui.input.focus();
  }
  function maybeSendTyping() {
    const now = Date.now();
    if (!connected || !ui.input.value.trim() || now - lastTypingSent < 2000) return;
    if (sendRaw({ type: "typing" })) lastTypingSent = now;
  }
  // -- incoming frames -----------------------------------------------------------------------
  function onWelcome(f, sentToken) {
    if (typeof f.token === "string") store(TOKEN_KEY, f.token);
    if (sentToken && f.token !== sentToken) resetTranscript(); // the old conversation is gone
    connected = true;
    everConnected = true;
    backoff = 1000;
    setState(f.state, null);
    resendPending();
  }
  function onError(f) {
    showAlert(typeof f.message === "string" && f.message ? f.message : t("errorGeneric"));
    if (f.code === "rate") {
      setTimeout(() => { if (connected) resendPending(); }, 3000); // the server de-duplicates by cid
    } else {
      const oldest = loadPending()[0]; // frames are answered in order: the refused one is the oldest
      if (oldest) fail(oldest.cid);
    }
  }
  // -- erasing the conversation -----------------------------------------------------------------
  let eraseTimer = null;
  function askErase() { // two presses: the first only arms the button for a few seconds
    if (!ui.erase.classList.contains("confirming")) {
      ui.erase.classList.add("confirming");
      ui.erase.textContent = t("eraseConfirm");
      eraseTimer = setTimeout(disarmErase, 5000);
      return;
    }
    disarmErase();
    if (connected) sendRaw({ type: "erase" });
  }
  function disarmErase() {
    clearTimeout(eraseTimer);
    ui.erase.classList.remove("confirming");
    ui.erase.textContent = t("erase");
  }
  function onErased() {
    store(TOKEN_KEY, null);
    store(PENDING_KEY, null);
    resetTranscript();
    restart();
    showAlert(t("erased"));
  }
  const HANDLERS = {
    welcome: onWelcome, erased: onErased, message: addMessage, typing: showTyping, error: onError,
    ack: (f) => { if (typeof f.cid === "string") acknowledge(f.cid, f.id); },
    state: (f) => setState(f.state, f.position),
    wait: setWait,
  };
  // -- connection ----------------------------------------------------------------------------
  /** The campaign an entry link names (?source=...), so statistics can count where people came from. */
  function entrySource() {
    const source = new URLSearchParams(location.search).get("source");
    return source && /^[a-z0-9_-]{1,32}$/.test(source) ? source : null;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (leaving) return;
    connected = false;
    renderStatus();
    let sock;
    try { sock = new WebSocket(wsUrl()); } catch (e) { scheduleReconnect(); return; }
    ws = sock;
    let sentToken = null;
    sock.addEventListener("open", () => {
      sentToken = load(TOKEN_KEY);
      sock.send(JSON.stringify({ type: "hello", token: sentToken, after: maxId, lang, source: entrySource() }));
    });
    sock.addEventListener("message", (ev) => {
      let f = null;
      try { f = JSON.parse(ev.data); } catch (e) { /* not JSON: ignored */ }
      if (ws === sock && f && HANDLERS[f.type]) HANDLERS[f.type](f, sentToken);
    });
    sock.addEventListener("close", () => {
      if (ws !== sock) return;
      ws = null;
      connected = false;
      hideTyping();
      renderStatus();
      scheduleReconnect();
    });
  }
  function scheduleReconnect() {
    if (leaving || reconnectTimer) return;
    reconnectTimer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }
  function restart() {
    const old = ws;
    ws = null;
    connected = false;
    try { if (old) old.close(); } catch (e) { }
    backoff = 1000;
    connect();
  }
  function reconnectNow() { if (!ws && reconnectTimer && !leaving) connect(); }
  // -- wiring --------------------------------------------------------------------------------
  ui.quickExit.addEventListener("click", quickExit);
  ui.erase.addEventListener("click", askErase);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !ev.isComposing) quickExit(); });
  ui.langToggle.addEventListener("click", toggleLang);
  ui.composer.addEventListener("submit", (ev) => { ev.preventDefault(); say(); });
  ui.input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); say(); }
  });
  ui.input.addEventListener("input", maybeSendTyping);
  ui.transcript.addEventListener("scroll", () => { // stay at the newest message unless scrolled up
    const tr = ui.transcript;
    pinned = tr.scrollHeight - tr.scrollTop - tr.clientHeight < 40;
  });
  if (window.ResizeObserver) new ResizeObserver(() => { if (pinned) scrollDown(); }).observe(ui.transcript);
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) reconnectNow(); });

  applyLang();
  resetTranscript();
  connect();
})();
