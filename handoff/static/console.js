// Lotsa counsellor console. Speaks the protocol in docs/protocol.md.
// Everything a contact writes is shown with textContent, never as HTML.
// One `state` object; any change calls changed(), which schedules one render() in a microtask.
import {
  $, alertLine, fill, formatTime, formatWait, make, readPageData, reconnectingSocket, translator, waitedSeconds,
} from "/static/common/common.js";

const AUTHORS = ["contact", "bot", "counsellor", "system"];
const TABS = ["notes", "canned", "referrals", "transfer", "wrapup"];
const STATE_KEY = "lotsa.console";

const page = readPageData();
const lang = page.lang === "en" ? "en" : "sv";
const t = translator((page.texts || {})[lang]);
const VOCABULARY = page.vocabulary || {};
const supervisor = ["supervisor", "admin"].includes(document.body.dataset.role);
const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
const ui = {
  waiting: $("waiting"), mine: $("mine"), waitingCount: $("waiting-count"), mineCount: $("mine-count"),
  waitingEmpty: $("waiting-empty"), mineEmpty: $("mine-empty"), alert: $("console-alert"), conn: $("conn"),
  empty: $("chat-empty"), open: $("chat-open"), title: $("chat-title"), summary: $("chat-summary"),
  transcript: $("console-transcript"), closedNote: $("chat-closed"), form: $("reply-form"),
  reply: $("reply"), send: $("send-reply"), close: $("close-conv"), typing: $("console-typing"),
  banner: $("alert-banner"), presence: $("presence"), capacity: $("capacity"), next: $("take-next"),
  sv: $("supervisor"), allActive: $("all-active"), allCount: $("all-count"), queueStats: $("queue-stats"),
  staff: $("staff"), notes: $("notes-list"), noteForm: $("note-form"), noteText: $("note-text"),
  cannedSearch: $("canned-search"), cannedList: $("canned-list"), refSearch: $("referral-search"),
  refList: $("referral-list"), transferForm: $("transfer-form"), transferTarget: $("transfer-target"),
  transferNote: $("transfer-note"), wrapupForm: $("wrapup-form"), outcome: $("wrapup-outcome"),
  wrapRefs: $("wrapup-referrals"), wrapNeeds: $("wrapup-needs"), wrapError: $("wrapup-error"),
  wrapGroup: $("wrapup-group"), wrapFlags: $("wrapup-flags"),
  wrapSubmit: $("wrapup-submit"), transferSubmit: $("transfer-submit"), noteAdd: $("note-add"),
};
const showAlert = alertLine(ui.alert);

const state = {
  queue: { waiting: [], mine: [], queues: [], me: null, supervisor: null },
  directory: { canned: [], referrals: [], outcomes: [], queues: [], colleagues: [] },
  current: null,          // summary of the conversation shown in the chat pane
  tab: "notes",
  online: false,
  unread: new Set(),      // conversation ids with messages not seen yet
  given: new Map(),       // conversation id -> Set of referral ids inserted into replies
};
const shownIds = new Set();  // message ids in the chat pane
const knownAcute = new Set();
const knownLate = new Set();
let lastTyping = 0, openSeq = 0, typingTimer = null, titleBlink = null, audio = null, renderQueued = false;

// -- helpers ---------------------------------------------------------------------------------
const textOr = (key, fallback) => { const s = t(key); return s === key ? String(fallback) : s; };
const label = (group, key) => (key == null || key === "" ? t("none") : textOr(group + "." + key, key));
const vocab = (kind, key) => (key == null || key === "" ? t("none")
  : (VOCABULARY[kind] && VOCABULARY[kind][key]) || String(key));
const vocabList = (kind, keys) => (Array.isArray(keys) && keys.length
  ? keys.map((k) => vocab(kind, k)).join(", ") : t("none"));
const time = (iso) => formatTime(iso, lang);
const mayAct = (c) => c && c.state === "active" && (c.claimed_by === document.body.dataset.user);
function saveState() {
  try {
    sessionStorage.setItem(STATE_KEY, JSON.stringify({ current: state.current ? state.current.id : null,
      tab: state.tab }));
  } catch (e) { /* storage unavailable: nothing to restore after a reload */ }
}
function loadState() {
  try { return JSON.parse(sessionStorage.getItem(STATE_KEY) || "{}") || {}; } catch (e) { return {}; }
}

// -- the render loop -------------------------------------------------------------------------
function changed() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => { renderQueued = false; render(); });
}
function render() {
  renderConn();
  renderLists();
  renderMe();
  renderSupervisor();
  renderChatPane();
  renderTabs();
  if (!titleBlink) document.title = baseTitle();
}

// -- HTTP ------------------------------------------------------------------------------------
async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    showAlert(t("network"));
    return { status: 0, data: null };
  }
  if (res.status === 401) { location.assign("/console"); return { status: 401, data: null }; }
  let data = null;
  try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
  return { status: res.status, data };
}
const convPath = (id, action) =>
  "/api/console/conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");

// -- alerts: banner, sound, title, notification ----------------------------------------------
function beep() {
  ui.banner.dataset.sounds = String(Number(ui.banner.dataset.sounds || 0) + 1);
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch (e) { /* no audio device: the banner and title still show */ }
}
function notify(text) {
  clearInterval(titleBlink);
  let on = false;
  titleBlink = setInterval(() => { on = !on; document.title = on ? t("notify_title") : baseTitle(); }, 1000);
  try {
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      new Notification(t("notify_title"), { body: text, tag: "lotsa-acute" });
    }
  } catch (e) { /* notifications unavailable */ }
}
function stopBlink() { clearInterval(titleBlink); titleBlink = null; document.title = baseTitle(); }
function checkAlerts() {
  const waiting = state.queue.waiting;
  const acute = waiting.filter((c) => c.risk === "acute");
  const late = waiting.filter((c) => c.waiting_since && c.max_wait_s && waitedSeconds(c.waiting_since) > c.max_wait_s);
  const lines = [];
  if (acute.length) lines.push(t(acute.length === 1 ? "alert_acute" : "alert_acute_many", { n: acute.length }));
  if (supervisor && late.length) lines.push(t("alert_wait", { n: late.length }));
  if (supervisor && state.queue.supervisor && state.queue.supervisor.surge) lines.push(t("alert_surge"));
  if (supervisor && state.queue.supervisor && state.queue.supervisor.login_burst) lines.push(t("alert_logins"));
  const held = Boolean(supervisor && state.queue.supervisor && state.queue.supervisor.acute_held);
  if (held) lines.push(t("acute_held"));
  showAcuteHold(held);
  const newAcute = acute.filter((c) => !knownAcute.has(c.id));
  const newLate = supervisor ? late.filter((c) => !knownLate.has(c.id)) : [];
  acute.forEach((c) => knownAcute.add(c.id));
  late.forEach((c) => knownLate.add(c.id));
  ui.banner.textContent = lines.join(" · ");
  ui.banner.hidden = lines.length === 0;
  ui.banner.dataset.level = acute.length ? "acute" : "late";
  if (newAcute.length || newLate.length) beep();
  if (newAcute.length) notify(lines[0]);
  if (!acute.length && titleBlink) stopBlink();
}

// The supervisor's one click during a surge: hold (or release) the acute lane.
function showAcuteHold(held) {
  const button = document.getElementById("acute-hold");
  const surge = Boolean(state.queue.supervisor && state.queue.supervisor.surge);
  button.hidden = !(supervisor && (surge || held));
  button.textContent = t(held ? "release_acute" : "hold_acute");
  button.setAttribute("aria-pressed", held ? "true" : "false");
  button.onclick = () => api("POST", "/api/console/acute-hold", { hold: !held });
}

// -- queue lists -----------------------------------------------------------------------------
function riskBadge(risk) {
  const key = risk || "routine";
  return make("span", "risk risk-" + key, vocab("risk", key));
}
function convBody(c) {
  const box = make("span", "conv-body");
  const top = box.appendChild(make("span", "conv-top"));
  top.appendChild(make("span", "pseudonym", c.pseudonym || "#" + c.id));
  top.appendChild(riskBadge(c.risk));
  if (c.front && c.state === "queued") top.appendChild(make("span", "front", t("front")));
  if (state.unread.has(c.id)) top.appendChild(make("span", "unread", t("unread")));
  const language = c.language ? String(c.language).toUpperCase() : null;
  const facts = [c.queue_name || c.queue, c.group ? vocab("group", c.group) : null, language, c.channel];
  box.appendChild(make("span", "conv-facts", facts.filter(Boolean).join(" · ")));
  if (c.claimed_by && c.state === "active" && supervisor) {
    box.appendChild(make("span", "holder", t("holder") + ": " + c.claimed_by));
  }
  if (c.waiting_since && c.state === "queued") {
    const wait = box.appendChild(make("span", "wait", t("waited") + " " + formatWait(c.waiting_since)));
    wait.dataset.since = c.waiting_since;
    if (c.max_wait_s) wait.dataset.limit = String(c.max_wait_s);
  }
  const words = flagWords(c);
  if (words.length) box.appendChild(make("span", "flag-words", "⚑ " + words.join(", ")));
  return box;
}
/** The person's own words behind the flags that count (older records: the words the rules matched). */
function flagWords(c) {
  const reasons = Array.isArray(c.flag_reasons) ? c.flag_reasons : [];
  if (!reasons.length) return Array.isArray(c.flag_words) ? c.flag_words : [];
  const real = new Set(c.flags || []);
  return [...new Set(reasons.filter((r) => real.has(r.flag) && r.words).map((r) => r.words))];
}
/** One reason: the flag, why (in the counsellor's words), and what the person wrote. */
function reasonText(r) {
  return vocab("flag", r.flag) + ": " + vocab("reason", r.reason) + (r.words ? " – “" + r.words + "”" : "");
}
function reasonList(reasons, className) {
  const list = make("ul", className);
  reasons.forEach((r) => list.appendChild(make("li", null, reasonText(r))));
  return list;
}
function waitingItem(c) {
  const li = make("li", "conv" + (c.risk === "acute" ? " conv-acute" : ""));
  li.dataset.id = String(c.id);
  if (supervisor) {
    const open = li.appendChild(make("button", "conv-open"));
    open.type = "button";
    open.appendChild(convBody(c));
    open.addEventListener("click", () => openConversation(c.id));
  } else {
    li.appendChild(convBody(c));
  }
  const btn = li.appendChild(make("button", "claim", t("claim")));
  btn.type = "button";
  if (c.can_take === false && !supervisor) { btn.disabled = true; btn.title = t("not_skilled"); }
  btn.addEventListener("click", () => claim(c.id, btn));
  return li;
}
function openItem(c) {
  const li = make("li", "conv" + (c.risk === "acute" ? " conv-acute" : ""));
  li.dataset.id = String(c.id);
  const selected = state.current && state.current.id === c.id;
  if (selected) li.classList.add("selected");
  if (state.unread.has(c.id)) li.classList.add("has-unread");
  const btn = li.appendChild(make("button", "conv-open"));
  btn.type = "button";
  btn.appendChild(convBody(c));
  if (selected) btn.setAttribute("aria-current", "true");
  btn.addEventListener("click", () => openConversation(c.id));
  return li;
}
function statItem(main, detail, itemState) {
  const li = make("li", "stat");
  li.appendChild(make("span", "stat-main", main));
  const d = li.appendChild(make("span", "stat-detail", detail));
  if (itemState) d.dataset.state = itemState;
  return li;
}
function renderLists() {
  const { waiting, mine } = state.queue;
  ui.waiting.replaceChildren(...waiting.map(waitingItem));
  ui.mine.replaceChildren(...mine.map(openItem));
  ui.waitingCount.textContent = String(waiting.length);
  ui.mineCount.textContent = String(mine.length);
  ui.waitingEmpty.hidden = waiting.length > 0;
  ui.mineEmpty.hidden = mine.length > 0;
}
function renderSupervisor() {
  const sv = state.queue.supervisor;
  if (!supervisor || !sv) return;
  ui.sv.hidden = false;
  ui.allActive.replaceChildren(...(sv.active || []).map(openItem));
  ui.allCount.textContent = String((sv.active || []).length);
  ui.queueStats.replaceChildren(...(state.queue.queues || []).map((q) => {
    const n = state.queue.waiting.filter((c) => c.queue === q.id).length;
    return statItem(q.name, t("waiting_n", { n }) + " · " + t(q.open ? "open_queue" : "closed_queue"),
      q.open ? "open" : "closed");
  }));
  ui.staff.replaceChildren(...(sv.staff || []).map((p) => statItem(p.name,
    label("presence", p.presence) + " · " + t("capacity", { n: p.chats, m: p.max_chats }), p.presence)));
}
function renderMe() {
  const me = state.queue.me;
  if (!me) return;
  if (document.activeElement !== ui.presence) ui.presence.value = me.chosen === "away" ? "away" : "available";
  ui.capacity.textContent = label("presence", me.presence) + " · " + t("capacity", { n: me.chats, m: me.max_chats });
  ui.capacity.dataset.presence = me.presence;
  ui.next.disabled = me.chats >= me.max_chats;
}
function renderConn() {
  ui.conn.textContent = t(state.online ? "connected" : "offline");
  ui.conn.dataset.state = state.online ? "online" : "offline";
}
function baseTitle() {
  const count = state.queue.mine.filter((c) => state.unread.has(c.id)).length;
  return (count ? "(" + count + ") " : "") + t("title");
}
function tickTimers() {
  document.querySelectorAll(".wait[data-since]").forEach((n) => {
    n.textContent = t("waited") + " " + formatWait(n.dataset.since);
    n.classList.toggle("late", Boolean(n.dataset.limit) && waitedSeconds(n.dataset.since) > Number(n.dataset.limit));
  });
  checkAlerts();
}
function setQueue(f) {
  const list = (x) => (Array.isArray(x) ? x : []);
  state.queue = { waiting: list(f.waiting), mine: list(f.mine), queues: list(f.queues), me: f.me || null,
    supervisor: f.supervisor || null };
  const current = state.current;
  if (current) {
    const fresh = state.queue.mine.find((c) => c.id === current.id)
      || (state.queue.supervisor && (state.queue.supervisor.active || []).find((c) => c.id === current.id));
    if (fresh) state.current = fresh;
    else if (current.state !== "closed") openConversation(current.id); // closed or moved elsewhere?
  }
  changed();
  checkAlerts();
}
function upsertMine(c) {
  const mine = state.queue.mine;
  const i = mine.findIndex((x) => x.id === c.id);
  if (c.state !== "active") { if (i >= 0) mine.splice(i, 1); }
  else if (i >= 0) mine[i] = c;
  else mine.push(c);
  state.queue.waiting = state.queue.waiting.filter((x) => x.id !== c.id);
  changed();
}

// -- chat pane -------------------------------------------------------------------------------
function summaryRows(c) {
  const rows = [
    [t("group"), vocab("group", c.group)], [t("risk"), riskBadge(c.risk)], [t("needs"), vocabList("need", c.needs)],
    [t("language"), c.language ? String(c.language).toUpperCase() : t("none")],
    [t("queue"), c.queue_name || c.queue || t("none")], [t("channel"), c.channel || t("none")],
  ];
  if (c.claimed_by) rows.push([t("holder"), c.claimed_by]);
  if (c.earlier) rows.push([t("earlier"), t("earlier_times", { n: c.earlier })]);
  if (Array.isArray(c.flags) && c.flags.length) rows.push([t("flags"), vocabList("flag", c.flags)]);
  const reasons = Array.isArray(c.flag_reasons) ? c.flag_reasons : [];
  const possible = new Set(Array.isArray(c.possible_flags) ? c.possible_flags : []);
  const why = reasons.filter((r) => !possible.has(r.flag));
  if (why.length) rows.push([t("why"), reasonList(why, "flag-reasons")]);
  else if (Array.isArray(c.flag_words) && c.flag_words.length) rows.push(["⚑", c.flag_words.join(", ")]);
  if (possible.size) {
    const maybe = reasons.filter((r) => possible.has(r.flag));
    rows.push([t("possible_flags"), maybe.length ? reasonList(maybe, "flag-reasons flag-possible")
      : make("span", "flag-possible", vocabList("flag", [...possible]))]);
  }
  return rows;
}
function renderChatPane() {
  const c = state.current;
  ui.empty.hidden = Boolean(c);
  ui.open.hidden = !c;
  if (!c) { ui.title.textContent = ""; ui.summary.replaceChildren(); return; }
  ui.title.textContent = c.pseudonym || "#" + c.id;
  ui.summary.replaceChildren(...summaryRows(c).map(([term, value]) => {
    const div = make("div", "summary-row");
    div.appendChild(make("dt", null, term));
    const dd = div.appendChild(make("dd"));
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    return div;
  }));
  const closed = c.state === "closed";
  const mine = mayAct(c);
  ui.closedNote.hidden = !closed;
  ui.reply.disabled = ui.send.disabled = !mine;
  ui.close.disabled = !(mine || (supervisor && c.state === "active"));
  ui.wrapSubmit.disabled = ui.close.disabled;
  ui.transferSubmit.disabled = !(mine || (supervisor && !closed));
  ui.noteAdd.disabled = !(mine || supervisor);
}
function appendMessage(m) {
  if (!m || typeof m.text !== "string") return;
  if (m.id != null) { if (shownIds.has(m.id)) return; shownIds.add(m.id); }
  const who = AUTHORS.includes(m.author) ? m.author : "system";
  const li = make("li", "msg msg-" + who);
  if (m.id != null) li.dataset.id = String(m.id);
  const names = {
    contact: state.current ? state.current.pseudonym : null, bot: t("bot"), counsellor: m.author_name || t("counsellor"),
  };
  if (names[who]) li.appendChild(make("span", "msg-author", names[who]));
  li.appendChild(make("p", "msg-text", m.text));
  const stamp = li.appendChild(make("time", "msg-time", time(m.at)));
  if (m.at) stamp.dateTime = m.at;
  ui.transcript.appendChild(li);
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
}
function appendNote(n) {
  if (!n || typeof n.text !== "string") return;
  if (ui.notes.querySelector('[data-id="' + Number(n.id) + '"]')) return;
  const li = make("li", "note note-" + (n.kind || "note"));
  li.dataset.id = String(n.id);
  const head = li.appendChild(make("span", "note-head"));
  head.textContent = label("note_kind", n.kind || "note") + (n.author_name ? " · " + n.author_name : "")
    + " · " + time(n.at);
  li.appendChild(make("p", "note-text", n.text));
  ui.notes.appendChild(li);
}
function showConversation(data) {
  const switching = !state.current || state.current.id !== data.conversation.id;
  state.current = data.conversation;
  shownIds.clear();
  ui.transcript.replaceChildren();
  (data.messages || []).forEach(appendMessage);
  ui.notes.replaceChildren();
  (data.notes || []).forEach(appendNote);
  if (switching) { ui.reply.value = ""; resetWrapup(); }
  state.unread.delete(data.conversation.id);
  render(); // now: the reply box must be enabled before it can take the focus
  saveState();
  if (switching && !ui.reply.disabled) ui.reply.focus();
}
async function openConversation(id) {
  const seq = ++openSeq; // only the latest click wins
  const { status, data } = await api("GET", convPath(id));
  if (seq !== openSeq) return;
  if (status === 200 && data && data.conversation) { showConversation(data); return; }
  if (status === 404 || status === 403) {
    showAlert(t("not_found"));
    if (state.current && state.current.id === id) clearPane();
  } else if (status) showAlert(t("failed"));
}
function hideTyping() { clearTimeout(typingTimer); ui.typing.hidden = true; }
function clearPane() {
  state.current = null;
  hideTyping();
  shownIds.clear();
  ui.transcript.replaceChildren();
  ui.notes.replaceChildren();
  ui.reply.value = "";
  changed();
  saveState();
}

// -- tools: tabs, canned replies, referrals, notes, transfer, wrap-up ------------------------
function renderTabs() {
  TABS.forEach((name) => {
    const on = name === state.tab;
    $("tab-" + name).setAttribute("aria-selected", String(on));
    $("tab-" + name).tabIndex = on ? 0 : -1;
    $("panel-" + name).hidden = !on;
  });
}
function showTab(name, focus) {
  state.tab = TABS.includes(name) ? name : "notes";
  renderTabs(); // now: the panel must be shown before a field in it can take the focus
  saveState();
  if (focus) {
    const first = $("panel-" + state.tab).querySelector("input, select, textarea, button");
    if (first) first.focus();
  }
}
function insertIntoReply(text) {
  const r = ui.reply;
  if (r.disabled) return;
  const start = r.selectionStart ?? r.value.length, end = r.selectionEnd ?? r.value.length;
  r.value = r.value.slice(0, start) + text + r.value.slice(end);
  r.selectionStart = r.selectionEnd = start + text.length;
  r.focus();
}
const matches = (query, ...fields) => {
  const q = query.trim().toLowerCase();
  return !q || fields.some((f) => String(f || "").toLowerCase().includes(q));
};
function renderCanned() {
  const q = ui.cannedSearch.value;
  const rows = state.directory.canned.filter((c) => matches(q, c.id, c.title, c.text));
  ui.cannedList.replaceChildren(...rows.map((c) => {
    const li = make("li", "pick");
    const btn = li.appendChild(make("button", "pick-btn"));
    btn.type = "button";
    btn.dataset.id = c.id;
    btn.appendChild(make("span", "pick-title", c.title + "  /" + c.id));
    btn.appendChild(make("span", "pick-text", c.text));
    btn.addEventListener("click", () => insertIntoReply(c.text));
    return li;
  }));
}
function referralGiven(r) {
  const current = state.current;
  if (current) {
    if (!state.given.has(current.id)) state.given.set(current.id, new Set());
    state.given.get(current.id).add(r.id);
    syncWrapupReferrals();
  }
  insertIntoReply(r.text);
}
function renderReferrals() {
  const q = ui.refSearch.value;
  const rows = state.directory.referrals.filter((r) => matches(q, r.name, r.text, r.phone,
    ...(r.needs || []).map((n) => vocab("need", n))));
  ui.refList.replaceChildren(...rows.map((r) => {
    const li = make("li", "pick");
    li.appendChild(make("span", "pick-title", r.name + (r.phone ? " · " + r.phone : "")));
    li.appendChild(make("span", "pick-text", r.text));
    const btn = li.appendChild(make("button", "plain", t("insert")));
    btn.type = "button";
    btn.dataset.id = r.id;
    btn.addEventListener("click", () => referralGiven(r));
    return li;
  }));
}
function checkbox(container, name, value, text) {
  const id = "wrap-" + name + "-" + value;
  const wrap = container.appendChild(make("label", "check"));
  wrap.htmlFor = id;
  const box = wrap.appendChild(make("input"));
  box.type = "checkbox";
  box.id = id;
  box.value = value;
  box.name = name;
  wrap.appendChild(document.createTextNode(" " + text));
  return box;
}
function buildWrapup() {
  const { outcomes, referrals } = state.directory;
  ui.outcome.replaceChildren(ui.outcome.options[0] || make("option", null, t("none")));
  outcomes.forEach((o) => { ui.outcome.appendChild(make("option", null, label("outcome", o))).value = o; });
  ui.wrapRefs.replaceChildren();
  referrals.forEach((r) => checkbox(ui.wrapRefs, "ref", r.id, r.name));
  ui.wrapNeeds.replaceChildren();
  Object.entries(VOCABULARY.need || {}).forEach(([need, text]) => checkbox(ui.wrapNeeds, "need", need, text));
  ui.wrapGroup.replaceChildren();
  Object.entries(VOCABULARY.group || {}).forEach(([group, text]) => {
    ui.wrapGroup.appendChild(make("option", null, text)).value = group;
  });
  ui.wrapFlags.replaceChildren();
  Object.entries(VOCABULARY.flag || {}).forEach(([flag, text]) => checkbox(ui.wrapFlags, "flag", flag, text));
}
function syncWrapupReferrals() {
  const ids = state.current && state.given.get(state.current.id);
  if (!ids) return;
  ui.wrapRefs.querySelectorAll("input").forEach((b) => { if (ids.has(b.value)) b.checked = true; });
}
function resetWrapup() {
  ui.outcome.value = "";
  ui.wrapError.hidden = true;
  ui.wrapRefs.querySelectorAll("input").forEach((b) => { b.checked = false; });
  const needs = new Set((state.current && state.current.needs) || []);
  ui.wrapNeeds.querySelectorAll("input").forEach((b) => { b.checked = needs.has(b.value); });
  // Triage review: prefilled with what triage found, so confirming it is no click at all.
  ui.wrapGroup.value = (state.current && state.current.group) || "other";
  const flags = new Set((state.current && state.current.flags) || []);
  ui.wrapFlags.querySelectorAll("input").forEach((b) => { b.checked = flags.has(b.value); });
  syncWrapupReferrals();
}
function buildTransferTargets() {
  const option = (text, value) => { const o = make("option", null, text); o.value = value; return o; };
  ui.transferTarget.replaceChildren(
    ...(state.directory.queues || []).map((q) => option(t("to_queue", { name: q.name }), "queue:" + q.id)),
    ...(state.directory.colleagues || []).map((name) => option(t("to_colleague", { name }), "to:" + name)));
}
async function loadDirectory() {
  const { status, data } = await api("GET", "/api/console/directory");
  if (status !== 200 || !data) return;
  state.directory = data;
  renderCanned();
  renderReferrals();
  buildWrapup();
  buildTransferTargets();
  resetWrapup();
}
function expandShortcut() {
  const r = ui.reply;
  const m = r.value.slice(0, r.selectionStart).match(/(?:^|\s)\/([a-z0-9_-]+)$/);
  if (!m) return false;
  const canned = state.directory.canned.find((c) => c.id === m[1]);
  if (!canned) return false;
  const start = r.selectionStart - m[1].length - 1;
  r.value = r.value.slice(0, start) + canned.text + r.value.slice(r.selectionStart);
  r.selectionStart = r.selectionEnd = start + canned.text.length;
  return true;
}
async function addNote(ev) {
  ev.preventDefault();
  const text = ui.noteText.value.trim();
  if (!text || !state.current) return;
  const { status, data } = await api("POST", convPath(state.current.id, "notes"), { text });
  if (status === 201 && data) { appendNote(data.note); ui.noteText.value = ""; }
  else if (status) showAlert((data && data.message) || t("failed"));
}
async function transferConversation(ev) {
  ev.preventDefault();
  if (!state.current) return;
  const note = ui.transferNote.value.trim();
  if (!note && !supervisor) { showAlert(t("note_required")); ui.transferNote.focus(); return; }
  const [kind, target] = ui.transferTarget.value.split(/:(.*)/s);
  const body = { note, queue: kind === "queue" ? target : null, to: kind === "to" ? target : null };
  const id = state.current.id;
  const { status, data } = await api("POST", convPath(id, "transfer"), body);
  if (status !== 200) { if (status) showAlert((data && data.message) || t("failed")); return; }
  ui.transferNote.value = "";
  showAlert(t("transferred"));
  if (supervisor) { openConversation(id); return; }
  openSeq++;
  state.queue.mine = state.queue.mine.filter((c) => c.id !== id);
  clearPane();
}
async function closeConversation(ev) {
  if (ev) ev.preventDefault();
  if (!state.current) return;
  if (!ui.outcome.value) {
    ui.wrapError.textContent = t("choose_outcome");
    ui.wrapError.hidden = false;
    showTab("wrapup");
    ui.outcome.focus();
    return;
  }
  const picked = (box) => Array.from(box.querySelectorAll("input:checked"), (b) => b.value);
  const body = { outcome: ui.outcome.value, referrals: picked(ui.wrapRefs), needs: picked(ui.wrapNeeds),
    group: ui.wrapGroup.value || null, flags: picked(ui.wrapFlags) };
  const id = state.current.id;
  const { status, data } = await api("POST", convPath(id, "close"), body);
  if (status !== 200) { if (status) showAlert((data && data.message) || t("failed")); return; }
  state.given.delete(id);
  openSeq++; // a reload of this conversation started by a queue frame must not show it again
  upsertMine((data && data.conversation) || { id, state: "closed" });
  if (state.current && state.current.id === id) clearPane();
}

// -- actions ---------------------------------------------------------------------------------
function claimRefused(status, data) {
  const code = data && data.error;
  if (code === "at_capacity") showAlert(t("at_capacity"));
  else if (code === "not_skilled") showAlert(t("not_skilled"));
  else if (status === 409) showAlert(t("taken"));
  else if (status) showAlert(t("failed"));
}
async function claim(id, btn) {
  btn.disabled = true;
  const { status, data } = await api("POST", convPath(id, "claim"));
  if (status === 200) {
    if (data && data.conversation) upsertMine(data.conversation);
    await openConversation(id);
    return;
  }
  if (status === 409 && data && data.error === "already_claimed") {
    state.queue.waiting = state.queue.waiting.filter((c) => c.id !== id);
    changed();
  } else btn.disabled = false;
  claimRefused(status, data);
}
async function takeNext() {
  if (ui.next.disabled) return;
  ui.next.disabled = true;
  const { status, data } = await api("POST", "/api/console/next");
  ui.next.disabled = false;
  if (status === 200 && data && data.conversation) {
    upsertMine(data.conversation);
    await openConversation(data.conversation.id);
  } else if (status === 200) showAlert(t("nothing"));
  else claimRefused(status, data);
  changed();
}
async function sendReply() {
  const text = ui.reply.value.trim();
  if (!text || !state.current || ui.send.disabled) return;
  const id = state.current.id;
  ui.send.disabled = true;
  const { status, data } = await api("POST", convPath(id, "messages"), { text });
  ui.send.disabled = !mayAct(state.current);
  if (status === 201) {
    if (state.current && state.current.id === id) {
      if (data && data.message) appendMessage(data.message);
      if (ui.reply.value.trim() === text) ui.reply.value = "";
    }
  } else if (status) {
    showAlert((data && data.message) || t("failed"));
  }
}
async function setPresence() {
  const { status } = await api("POST", "/api/console/presence", { presence: ui.presence.value });
  if (status !== 200 && status) showAlert(t("failed"));
}
function maybeSendTyping() {
  const now = Date.now();
  if (!state.current || now - lastTyping < 2000) return;
  if (socket.send({ type: "typing", conversation: state.current.id })) lastTyping = now;
}
function switchConversation(step) {
  const ids = state.queue.mine.map((c) => c.id);
  if (!ids.length) return;
  const at = state.current ? ids.indexOf(state.current.id) : -1;
  openConversation(ids[(at + step + ids.length) % ids.length]);
}

// -- WebSocket -------------------------------------------------------------------------------
function onMessageFrame(f) {
  const current = state.current;
  if (current && f.conversation === current.id) { appendMessage(f.message); hideTyping(); }
  else if ((!f.message || f.message.author !== "counsellor")
    && !state.queue.waiting.some((c) => c.id === f.conversation)) state.unread.add(f.conversation); // open chats only
  changed();
}
function onFrame(f) {
  const current = state.current;
  if (f.type === "queue") setQueue(f);
  else if (f.type === "message") onMessageFrame(f);
  else if (f.type === "note") { if (current && f.conversation === current.id) appendNote(f.note); }
  else if (f.type === "typing" && current && f.conversation === current.id) {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 3000);
  } else if (f.type === "conversation" && f.conversation) {
    upsertMine(f.conversation);
    if (current && current.id === f.conversation.id) state.current = f.conversation;
    changed();
  }
}
let restored = false;
const socket = reconnectingSocket("/console/ws", {
  onConnecting() { restored = false; },
  onOpen() { state.online = true; socket.resetBackoff(); changed(); },
  onFrame(f) {
    onFrame(f);
    if (!restored && f.type === "queue") {
      restored = true; // after a (re)connect: reload the open conversation, messages may have been missed
      const wanted = state.current ? state.current.id : restore.current;
      if (wanted) openConversation(wanted);
    }
  },
  onDown(ev) {
    if (ev && ev.code === 4401) { location.assign("/console"); return; } // the session ended: log in again
    state.online = false; changed();
  },
});

// -- wiring ----------------------------------------------------------------------------------
function onKey(ev) {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey) {
    if (ev.key === "Escape" && ev.target !== ui.reply && !ui.reply.disabled) ui.reply.focus();
    return;
  }
  const key = ev.key.toLowerCase();
  const code = ev.code || "";
  let handled = true;
  if (key === "n" || code === "KeyN") takeNext();
  else if (key === "arrowdown") switchConversation(1);
  else if (key === "arrowup") switchConversation(-1);
  else if (key === "r" || code === "KeyR") ui.reply.focus();
  else if (key === "w" || code === "KeyW") showTab("wrapup", true);
  else if (/^Digit[1-5]$/.test(code)) showTab(TABS[Number(code.slice(5)) - 1], true);
  else handled = false;
  if (handled) ev.preventDefault();
}
function wire() {
  ui.form.addEventListener("submit", (ev) => { ev.preventDefault(); sendReply(); });
  ui.reply.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendReply(); }
    else if (ev.key === "Tab" && !ev.shiftKey && expandShortcut()) ev.preventDefault();
  });
  ui.reply.addEventListener("input", maybeSendTyping);
  ui.close.addEventListener("click", () => {
    showTab("wrapup", false);
    if (ui.outcome.value) closeConversation(); else ui.outcome.focus();
  });
  ui.next.addEventListener("click", takeNext);
  ui.presence.addEventListener("change", setPresence);
  ui.noteForm.addEventListener("submit", addNote);
  ui.transferForm.addEventListener("submit", transferConversation);
  ui.wrapupForm.addEventListener("submit", closeConversation);
  ui.cannedSearch.addEventListener("input", renderCanned);
  ui.cannedSearch.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); const b = ui.cannedList.querySelector("button"); if (b) b.click(); }
  });
  ui.refSearch.addEventListener("input", renderReferrals);
  TABS.forEach((name, i) => {
    $("tab-" + name).addEventListener("click", () => showTab(name, false));
    $("tab-" + name).addEventListener("keydown", (ev) => {
      const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
      if (step) { const next = TABS[(i + step + TABS.length) % TABS.length]; showTab(next); $("tab-" + next).focus(); }
    });
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !state.queue.waiting.some((c) => c.risk === "acute")) stopBlink();
  });
  document.addEventListener("click", () => {
    try { if (window.Notification && Notification.permission === "default") Notification.requestPermission(); }
    catch (e) { /* notifications unavailable */ }
  }, { once: true });
}

const restore = loadState(); // read before anything saves over it
wire();
setInterval(tickTimers, 1000);
showTab(restore.tab || "notes");
render();
loadDirectory();
socket.connect();
