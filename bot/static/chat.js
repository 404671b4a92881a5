// Lotsa web chat: anonymous, no cookies. Speaks the protocol in docs/protocol.md.
// Its texts come from the page data (the `chat` section of the message catalogue, both languages).
import {
  $, alertLine, applyTexts, formatDayTime, formatTime, make, readPageData, reconnectingSocket, translator,
} from "/static/common/common.js";

const TOKEN_KEY = "lotsa.token", PENDING_KEY = "lotsa.pending", LANG_KEY = "lotsa.lang";
const AUTHOR_LABELS = { contact: "you", bot: "bot", counsellor: "counsellor", system: null };
const CID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const body = document.body;
const page = readPageData();
const TEXTS = page.texts || {};
const ui = {
  transcript: $("transcript"), status: $("status"), typing: $("typing"), alert: $("alert"),
  composer: $("composer"), input: $("input"), quickExit: $("quick-exit"), langToggle: $("lang-toggle"),
  langName: $("lang-toggle-name"), erase: $("erase"),
};
const showAlertText = alertLine(ui.alert);

let lang = pickLang();
let t = translator(TEXTS[lang] || TEXTS.sv);
let connected = false, everConnected = false; // connected: `welcome` seen on this socket
let state = null, position = null, wait = null, leaving = false, sentToken = null;
let maxId = 0, choicesEl = null;
let lastTypingSent = 0, typingTimer = null, pinned = true, eraseTimer = null;
const shownIds = new Set();

// -- storage (sessionStorage may be unavailable in some private modes) -----------------------
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

// -- language --------------------------------------------------------------------------------
function pickLang() {
  const saved = load(LANG_KEY);
  if ((saved === "sv" || saved === "en") && TEXTS[saved]) return saved;
  return page.lang === "en" || body.dataset.lang === "en" ? "en" : "sv";
}
function applyLang() {
  t = translator(TEXTS[lang] || TEXTS.sv);
  document.documentElement.lang = lang;
  applyTexts(t);
  ui.langName.lang = t("lang_toggle_lang"); // the button names the other language, in that language
  document.title = t("title");
  renderStatus();
}
function toggleLang() {
  lang = lang === "sv" ? "en" : "sv";
  store(LANG_KEY, lang);
  applyLang();
  // Nothing stored yet: start over so that the greeting comes in the chosen language.
  if (maxId === 0 && !loadPending().length) { resetTranscript(); restart(); }
}

// -- quick exit ------------------------------------------------------------------------------
function quickExit() {
  const url = body.dataset.quickExit || "about:blank"; // read before the body is emptied
  leaving = true;
  try { sessionStorage.clear(); socket.stop(); } catch (e) { /* leave all the same */ }
  document.title = "";
  body.replaceChildren();
  location.replace(url);
}

// -- status, alert, typing -------------------------------------------------------------------
function renderStatus() {
  let text;
  if (!connected) text = t(everConnected ? "reconnecting" : "connecting");
  else if (state === "closed") text = t("closed");
  else if (state === "queued") {
    text = [position ? t("queue_position", { n: position }) : t("queued"), waitText()].filter(Boolean).join(". ");
  } else if (state === "active") text = t("active");
  else text = t("connected");
  ui.status.textContent = text;
  ui.status.dataset.state = connected ? (state || "new") : "offline";
}
function waitText() { // the honest estimate the server sends in `wait` frames (docs/protocol.md)
  if (!wait) return "";
  const parts = [];
  if (!wait.open) {
    parts.push(t("wait_closed"));
    const when = formatDayTime(wait.opens_at, lang);
    if (when) parts.push(t("wait_opens", { when }));
  } else if (typeof wait.minutes === "number") parts.push(t("wait_about", { m: wait.minutes }));
  else parts.push(t("wait_unknown"));
  parts.push(t("wait_danger"));
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
  // The server greets again: writing starts a new conversation (after the feedback questions, if asked).
  if (state === "closed" && !(choicesEl && choicesEl.dataset.feedback)) clearChoices();
  renderStatus();
}
const showAlert = (text) => showAlertText(text || t("error_generic"));
function showTyping() {
  ui.typing.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, 3000);
}
function hideTyping() { clearTimeout(typingTimer); ui.typing.hidden = true; }

// -- transcript ------------------------------------------------------------------------------
function buildMsg(author, text, at) {
  const who = author in AUTHOR_LABELS ? author : "system";
  const li = make("li", "msg msg-" + who);
  const labelKey = AUTHOR_LABELS[who];
  if (labelKey) {
    const label = li.appendChild(make("span", "msg-author", t(labelKey)));
    label.dataset.i18n = labelKey;
  }
  li.appendChild(make("p", "msg-text", text));
  const time = make("time", null, formatTime(at, lang));
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
function scrollDown() { ui.transcript.scrollTop = ui.transcript.scrollHeight; }
const findByCid = (cid) => Array.from(ui.transcript.children).find((n) => n.dataset.cid === cid) || null;
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
  setMsgState(node, "not_sent");
  if (!ui.input.value) ui.input.value = node.querySelector(".msg-text").textContent;
}
function resetTranscript() {
  ui.transcript.replaceChildren();
  shownIds.clear();
  maxId = 0;
  choicesEl = null;
  loadPending().forEach((f) => { if (f.type === "say") addPendingBubble(f.cid, f.text); });
}

// -- choices ---------------------------------------------------------------------------------
function clearChoices() { if (choicesEl) choicesEl.remove(); choicesEl = null; }
function showChoices(msgNode, choices) {
  clearChoices();
  const wrap = make("div", "choices");
  wrap.setAttribute("role", "group");
  wrap.setAttribute("aria-label", t("choices_label"));
  wrap.dataset.i18nLabel = "choices_label";
  choices.filter((c) => c && typeof c.id === "string").forEach((c) => {
    const btn = wrap.appendChild(make("button", "choice", String(c.label == null ? c.id : c.label)));
    btn.type = "button";
    btn.dataset.choice = c.id;
    btn.addEventListener("click", () => sendOwn(btn.textContent, { type: "choose", choice: c.id }));
  });
  if (choices.some((c) => c && String(c.id).startsWith("feedback_"))) wrap.dataset.feedback = "1";
  choicesEl = msgNode.appendChild(wrap);
  scrollDown();
}

// -- sending ---------------------------------------------------------------------------------
function resendPending() { loadPending().forEach(socket.send); }
function sendOwn(label, frame) { // a `say` or `choose`: shown at once, kept until acknowledged
  frame.cid = makeCid();
  clearChoices();
  addPendingBubble(frame.cid, label);
  savePending(loadPending().concat([frame]));
  if (connected) socket.send(frame);
}
function makeCid() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => CID_ALPHABET[b & 63]).join("");
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
  if (socket.send({ type: "typing" })) lastTypingSent = now;
}

// -- incoming frames -------------------------------------------------------------------------
function onWelcome(f) {
  if (typeof f.token === "string") store(TOKEN_KEY, f.token);
  if (sentToken && f.token !== sentToken) resetTranscript(); // the old conversation is gone
  connected = true;
  everConnected = true;
  socket.resetBackoff();
  setState(f.state, null);
  resendPending();
}
function onError(f) {
  showAlert(typeof f.message === "string" && f.message ? f.message : t("error_generic"));
  if (f.code === "rate") {
    setTimeout(() => { if (connected) resendPending(); }, 3000); // the server de-duplicates by cid
  } else {
    const oldest = loadPending()[0]; // frames are answered in order: the refused one is the oldest
    if (oldest) fail(oldest.cid);
  }
}

// -- erasing the conversation ----------------------------------------------------------------
function askErase() { // two presses: the first only arms the button for a few seconds
  if (!ui.erase.classList.contains("confirming")) {
    ui.erase.classList.add("confirming");
    ui.erase.dataset.i18n = "erase_confirm";
    ui.erase.textContent = t("erase_confirm");
    eraseTimer = setTimeout(disarmErase, 5000);
    return;
  }
  disarmErase();
  if (connected) socket.send({ type: "erase" });
}
function disarmErase() {
  clearTimeout(eraseTimer);
  ui.erase.classList.remove("confirming");
  ui.erase.dataset.i18n = "erase";
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

// -- connection ------------------------------------------------------------------------------
/** The campaign an entry link names (?source=...), so statistics can count where people came from. */
function entrySource() {
  const source = new URLSearchParams(location.search).get("source");
  return source && /^[a-z0-9_-]{1,32}$/.test(source) ? source : null;
}
const socket = reconnectingSocket("/chat/ws", {
  onConnecting() { connected = false; renderStatus(); },
  onOpen(send) {
    sentToken = load(TOKEN_KEY);
    send({ type: "hello", token: sentToken, after: maxId, lang, source: entrySource() });
  },
  onFrame(f) { if (HANDLERS[f.type]) HANDLERS[f.type](f); },
  onDown() { connected = false; hideTyping(); renderStatus(); },
});
function restart() { connected = false; if (!leaving) socket.restart(); }

// -- wiring ----------------------------------------------------------------------------------
ui.quickExit.addEventListener("click", quickExit);
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !ev.isComposing) quickExit(); });
ui.erase.addEventListener("click", askErase);
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

applyLang();
resetTranscript();
socket.connect();
