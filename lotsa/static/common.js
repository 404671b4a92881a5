// What the web chat and the console share: page data and texts, DOM and time helpers, the alert
// line and a WebSocket that reconnects. A native ES module: no build step, no external resources.

export const $ = (id) => document.getElementById(id);

export function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

// -- page data and texts ---------------------------------------------------------------------
/** The JSON island the server renders into the page: language, texts, vocabulary labels. */
export function readPageData() {
  const island = $("page-data");
  try {
    const data = JSON.parse(island ? island.textContent : "{}");
    return data && typeof data === "object" ? data : {};
  } catch (e) {
    return {};
  }
}

/** `{name}` fields filled in; a field without a value becomes empty. */
export const fill = (text, vars) =>
  text.replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? String(vars[name]) : ""));

/** A lookup in one language's texts: `t("queue_position", { n: 3 })`; a missing key shows itself. */
export function translator(texts) {
  const table = texts || {};
  return (key, vars) => fill(typeof table[key] === "string" ? table[key] : key, vars);
}

/** Puts the texts into the elements that name them (`data-i18n`, `-placeholder`, `-label`). */
export function applyTexts(t, root = document) {
  root.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
  root.querySelectorAll("[data-i18n-label]").forEach((n) => n.setAttribute("aria-label", t(n.dataset.i18nLabel)));
}

// -- time ------------------------------------------------------------------------------------
const locale = (lang) => (lang === "sv" ? "sv-SE" : "en-GB");

function validDate(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

/** "14:05": the clock time of a message. */
export function formatTime(iso, lang) {
  const d = validDate(iso);
  return d ? d.toLocaleTimeString(locale(lang), { hour: "2-digit", minute: "2-digit" }) : "";
}

/** "måndag 09:00": when something opens. */
export function formatDayTime(iso, lang) {
  const d = validDate(iso);
  return d ? d.toLocaleString(locale(lang), { weekday: "long", hour: "2-digit", minute: "2-digit" }) : "";
}

export const waitedSeconds = (iso) => Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));

/** "3 min 20 s": how long someone has waited. */
export function formatWait(iso) {
  if (!iso || Number.isNaN(Date.parse(iso))) return "";
  const s = waitedSeconds(iso);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

// -- alert line ------------------------------------------------------------------------------
/** A `role=alert` element shown with a text for a while: `const show = alertLine(node); show("…")`. */
export function alertLine(node, ms = 8000) {
  let timer = null;
  return (text) => {
    node.textContent = text;
    node.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => { node.hidden = true; }, ms);
  };
}

// -- WebSocket with reconnect ----------------------------------------------------------------
/**
 * A socket to `path` on this host that reconnects with backoff (1 s doubling to 10 s), and at once
 * when the browser is back online or the page is shown again. Frames are JSON; frames from a socket
 * that has been replaced are dropped. Handlers: onConnecting(), onOpen(send), onFrame(frame), onDown(closeEvent).
 */
export function reconnectingSocket(path, handlers) {
  const on = { onConnecting() {}, onOpen() {}, onFrame() {}, onDown() {}, ...handlers };
  let ws = null, backoff = 1000, timer = null, stopped = false;
  const url = () => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  const isOpen = () => Boolean(ws && ws.readyState === WebSocket.OPEN);
  function send(frame) {
    if (!isOpen()) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }
  function schedule() {
    if (stopped || timer) return;
    timer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }
  function connect() {
    clearTimeout(timer);
    timer = null;
    if (stopped) return;
    on.onConnecting();
    let sock;
    try { sock = new WebSocket(url()); } catch (e) { schedule(); return; }
    ws = sock;
    sock.addEventListener("open", () => { if (ws === sock) on.onOpen(send); });
    sock.addEventListener("message", (ev) => {
      let frame = null;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (ws === sock && frame && typeof frame === "object") on.onFrame(frame);
    });
    sock.addEventListener("close", (ev) => {
      if (ws !== sock) return;
      ws = null;
      on.onDown(ev);
      schedule();
    });
  }
  function drop() {
    const old = ws;
    ws = null;
    try { if (old) old.close(); } catch (e) { /* already closed */ }
  }
  const reconnectNow = () => { if (!ws && timer && !stopped) connect(); };
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) reconnectNow(); });
  return {
    send, isOpen, connect,
    resetBackoff() { backoff = 1000; },
    restart() { drop(); backoff = 1000; connect(); },
    stop() { stopped = true; clearTimeout(timer); drop(); },
  };
}
