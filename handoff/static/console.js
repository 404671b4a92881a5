// Lotsa counsellor console. Speaks the protocol in docs/protocol.md.
// Everything a contact writes is shown with textContent, never as HTML.
"use strict";
(() => {
  const STRINGS = {
    sv: {
      earlier: "Har skrivit förut", earlierTimes: "{n} gånger",
      connected: "Ansluten", offline: "Frånkopplad – ansluter igen…", claim: "Ta samtalet",
      taken: "Någon annan tog samtalet", failed: "Det gick inte. Försök igen.",
      network: "Nätverksfel. Försök igen.", notFound: "Samtalet är inte ditt längre, eller finns inte.",
      unread: "Nytt", waiting: "väntat", bot: "Bot", counsellor: "Samtalsstödjare",
      group: "Grupp", risk: "Risk", needs: "Behov", language: "Språk", queue: "Kö", flags: "Flaggor",
      channel: "Kanal", none: "–", holder: "Hos", front: "Först i kön",
      nothing: "Ingen väntar som du kan ta just nu.", atCapacity: "Du har fullt med samtal.",
      notSkilled: "Samtalet kräver ett språk eller en kö som du inte tar.",
      capacity: "{n} av {m} samtal", presence: { available: "tillgänglig", away: "borta", busy: "upptagen",
        offline: "frånkopplad" },
      insert: "Infoga", noteSaved: "Anteckningen är sparad.", transferred: "Samtalet är överfört.",
      toQueue: "Kö: {name}", toColleague: "Kollega: {name}", noteRequired: "Skriv en anteckning.",
      chooseOutcome: "Välj ett utfall innan du avslutar.",
      alertAcute: "AKUT: {n} akut kontakt väntar", alertAcuteMany: "AKUT: {n} akuta kontakter väntar",
      alertWait: "{n} har väntat längre än köns gräns",
      alertSurge: "Anstormning: nya kontakter över gränsen hamnar sist i kön",
      alertLogins: "Många misslyckade inloggningar just nu", closedQueue: "stängd", openQueue: "öppen",
      waitingN: "{n} väntar", notifyTitle: "⚠ Akut kontakt väntar",
      noteKinds: { note: "Anteckning", transfer: "Överföring", returned: "Tillbaka i kön" },
      outcomes: { supported: "Stödsamtal", referred: "Hänvisad vidare", information: "Information gavs",
        emergency: "Larm/socialjour kontaktad", left: "Personen lämnade", not_relevant: "Ej relevant/test" },
      risks: { acute: "Akut", elevated: "Förhöjd", routine: "Rutin" },
      groups: { sells: "Säljer/har sålt sex", buys: "Köper sex", relative: "Anhörig",
        professional: "Yrkesverksam", other: "Övrigt" },
      needsMap: { talk: "Stödsamtal", exit: "Lämna prostitution", safety: "Skydd", health: "Hälsa",
        legal: "Juridik", economy: "Ekonomi", return: "Återvändande", interpreter: "Tolk",
        information: "Information" },
      flagsMap: { minor: "Möjligen minderårig", immediate_danger: "Akut fara", suicide: "Suicidrisk",
        trafficking: "Människohandel" },
    },
    en: {
      earlier: "Has written before", earlierTimes: "{n} times",
      connected: "Connected", offline: "Disconnected – reconnecting…", claim: "Claim",
      taken: "Someone else took this conversation", failed: "That did not work. Please try again.",
      network: "Network error. Please try again.",
      notFound: "The conversation is no longer yours, or does not exist.",
      unread: "New", waiting: "waiting", bot: "Bot", counsellor: "Counsellor",
      group: "Group", risk: "Risk", needs: "Needs", language: "Language", queue: "Queue", flags: "Flags",
      channel: "Channel", none: "–", holder: "With", front: "First in line",
      nothing: "Nobody you can take is waiting right now.", atCapacity: "You have as many chats as you can take.",
      notSkilled: "This conversation needs a language or queue you do not take.",
      capacity: "{n} of {m} chats", presence: { available: "available", away: "away", busy: "busy",
        offline: "offline" },
      insert: "Insert", noteSaved: "The note is saved.", transferred: "The conversation is transferred.",
      toQueue: "Queue: {name}", toColleague: "Colleague: {name}", noteRequired: "Write a note.",
      chooseOutcome: "Choose an outcome before closing.",
      alertAcute: "ACUTE: {n} acute contact waiting", alertAcuteMany: "ACUTE: {n} acute contacts waiting",
      alertWait: "{n} waited longer than their queue's limit",
      alertSurge: "Surge: new contacts beyond the limit go last in line",
      alertLogins: "Many failed log-ins right now", closedQueue: "closed", openQueue: "open",
      waitingN: "{n} waiting", notifyTitle: "⚠ Acute contact waiting",
      noteKinds: { note: "Note", transfer: "Transfer", returned: "Back in the queue" },
      outcomes: { supported: "Support talk", referred: "Referred onward", information: "Information given",
        emergency: "Emergency/social services alerted", left: "Person left", not_relevant: "Not relevant/test" },
      risks: { acute: "Acute", elevated: "Elevated", routine: "Routine" },
      groups: { sells: "Sells / has sold sex", buys: "Buys sex", relative: "Relative",
        professional: "Professional", other: "Other" },
      needsMap: { talk: "Support talks", exit: "Exit prostitution", safety: "Safety", health: "Health",
        legal: "Legal", economy: "Economy", return: "Return", interpreter: "Interpreter",
        information: "Information" },
      flagsMap: { minor: "Possible minor", immediate_danger: "Immediate danger", suicide: "Suicide risk",
        trafficking: "Trafficking" },
    },
  };
  const AUTHORS = ["contact", "bot", "counsellor", "system"];
  const NEEDS = ["talk", "exit", "safety", "health", "legal", "economy", "return", "interpreter", "information"];
  const TABS = ["notes", "canned", "referrals", "transfer", "wrapup"];
  const STATE_KEY = "lotsa.console";

  const $ = (id) => document.getElementById(id);
  const htmlLang = document.documentElement.lang || document.body.dataset.lang;
  const lang = htmlLang === "en" ? "en" : "sv";
  const S = STRINGS[lang];
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
  };

  let queue = { waiting: [], mine: [], queues: [], me: null, supervisor: null };
  let directory = { canned: [], referrals: [], outcomes: [], queues: [], colleagues: [] };
  let current = null;          // Summary of the conversation shown in the chat pane
  const shownIds = new Set();  // message ids in the chat pane
  const unread = new Set();    // conversation ids with messages not seen yet
  const given = new Map();     // conversation id -> Set of referral ids inserted into replies
  const knownAcute = new Set();
  const knownLate = new Set();
  let ws = null, backoff = 1000, reconnectTimer = null, lastTyping = 0, alertTimer = null, openSeq = 0;
  let typingTimer = null, activeTab = "notes", titleBlink = null, audio = null;

  // -- helpers -------------------------------------------------------------------------------
  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => (vars && k in vars ? String(vars[k]) : ""));
  const label = (map, key) => (key == null || key === "" ? S.none : (S[map] && S[map][key]) || String(key));
  const list = (map, keys) => (Array.isArray(keys) && keys.length
    ? keys.map((k) => label(map, k)).join(", ") : S.none);
  function formatTime(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return "";
    return d.toLocaleTimeString(lang === "sv" ? "sv-SE" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  }
  const waitedSeconds = (iso) => Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  function formatWait(iso) {
    if (!iso || Number.isNaN(Date.parse(iso))) return "";
    const s = waitedSeconds(iso);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function showAlert(text) {
    ui.alert.textContent = text;
    ui.alert.hidden = false;
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => { ui.alert.hidden = true; }, 8000);
  }
  function saveState() {
    try {
      sessionStorage.setItem(STATE_KEY, JSON.stringify({ current: current ? current.id : null, tab: activeTab }));
    } catch (e) { /* storage unavailable: nothing to restore after a reload */ }
  }
  function loadState() {
    try { return JSON.parse(sessionStorage.getItem(STATE_KEY) || "{}") || {}; } catch (e) { return {}; }
  }

  // -- HTTP ----------------------------------------------------------------------------------
  async function api(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      showAlert(S.network);
      return { status: 0, data: null };
    }
    if (res.status === 401) { location.assign("/console"); return { status: 401, data: null }; }
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    return { status: res.status, data };
  }
  const convPath = (id, action) =>
    "/api/console/conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");

  // -- alerts: banner, sound, title, notification --------------------------------------------
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
    titleBlink = setInterval(() => { on = !on; document.title = on ? S.notifyTitle : baseTitle(); }, 1000);
    try {
      if (window.Notification && Notification.permission === "granted" && document.hidden) {
        new Notification(S.notifyTitle, { body: text, tag: "lotsa-acute" });
      }
    } catch (e) { /* notifications unavailable */ }
  }
  function stopBlink() { clearInterval(titleBlink); titleBlink = null; document.title = baseTitle(); }
  function checkAlerts() {
    const acute = queue.waiting.filter((c) => c.risk === "acute");
    const late = queue.waiting.filter((c) => c.waiting_since && c.max_wait_s
      && waitedSeconds(c.waiting_since) > c.max_wait_s);
    const lines = [];
    if (acute.length) lines.push(fill(acute.length === 1 ? S.alertAcute : S.alertAcuteMany, { n: acute.length }));
    if (supervisor && late.length) lines.push(fill(S.alertWait, { n: late.length }));
    if (supervisor && queue.supervisor && queue.supervisor.surge) lines.push(S.alertSurge);
    if (supervisor && queue.supervisor && queue.supervisor.login_burst) lines.push(S.alertLogins);
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

  // -- queue ---------------------------------------------------------------------------------
  function riskBadge(risk) {
    const key = risk || "routine";
    return make("span", "risk risk-" + key, label("risks", key));
  }
  function convBody(c) {
    const box = make("span", "conv-body");
    const top = box.appendChild(make("span", "conv-top"));
    top.appendChild(make("span", "pseudonym", c.pseudonym || "#" + c.id));
    top.appendChild(riskBadge(c.risk));
    if (c.front && c.state === "queued") top.appendChild(make("span", "front", S.front));
    if (unread.has(c.id)) top.appendChild(make("span", "unread", S.unread));
    const language = c.language ? String(c.language).toUpperCase() : null;
    const facts = [c.queue_name || c.queue, label("groups", c.group), language, c.channel];
    box.appendChild(make("span", "conv-facts", facts.filter(Boolean).join(" · ")));
    if (c.claimed_by && c.state === "active" && supervisor) box.appendChild(make("span", "holder", S.holder + ": " + c.claimed_by));
    if (c.waiting_since && c.state === "queued") {
      const wait = box.appendChild(make("span", "wait", S.waiting + " " + formatWait(c.waiting_since)));
      wait.dataset.since = c.waiting_since;
      if (c.max_wait_s) wait.dataset.limit = String(c.max_wait_s);
    }
    if (Array.isArray(c.flag_words) && c.flag_words.length) {
      box.appendChild(make("span", "flag-words", "⚑ " + c.flag_words.join(", ")));
    }
    return box;
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
    const btn = li.appendChild(make("button", "claim", S.claim));
    btn.type = "button";
    if (c.can_take === false && !supervisor) { btn.disabled = true; btn.title = S.notSkilled; }
    btn.addEventListener("click", () => claim(c.id, btn));
    return li;
  }
  function openItem(c) {
    const li = make("li", "conv" + (c.risk === "acute" ? " conv-acute" : ""));
    li.dataset.id = String(c.id);
    if (current && current.id === c.id) li.classList.add("selected");
    if (unread.has(c.id)) li.classList.add("has-unread");
    const btn = li.appendChild(make("button", "conv-open"));
    btn.type = "button";
    btn.appendChild(convBody(c));
    if (current && current.id === c.id) btn.setAttribute("aria-current", "true");
    btn.addEventListener("click", () => openConversation(c.id));
    return li;
  }
  function statItem(main, detail, state) {
    const li = make("li", "stat");
    li.appendChild(make("span", "stat-main", main));
    const d = li.appendChild(make("span", "stat-detail", detail));
    if (state) d.dataset.state = state;
    return li;
  }
  function renderSupervisor() {
    const sv = queue.supervisor;
    if (!supervisor || !sv) return;
    ui.sv.hidden = false;
    ui.allActive.replaceChildren(...(sv.active || []).map(openItem));
    ui.allCount.textContent = String((sv.active || []).length);
    ui.queueStats.replaceChildren(...(queue.queues || []).map((q) => {
      const n = queue.waiting.filter((c) => c.queue === q.id).length;
      return statItem(q.name, fill(S.waitingN, { n }) + " · " + (q.open ? S.openQueue : S.closedQueue),
        q.open ? "open" : "closed");
    }));
    ui.staff.replaceChildren(...(sv.staff || []).map((p) => statItem(p.name,
      label("presence", p.presence) + " · " + fill(S.capacity, { n: p.chats, m: p.max_chats }), p.presence)));
  }
  function renderMe() {
    const me = queue.me;
    if (!me) return;
    if (document.activeElement !== ui.presence) ui.presence.value = me.chosen === "away" ? "away" : "available";
    ui.capacity.textContent = label("presence", me.presence) + " · " + fill(S.capacity, { n: me.chats, m: me.max_chats });
    ui.capacity.dataset.presence = me.presence;
    ui.next.disabled = me.chats >= me.max_chats;
  }
  function baseTitle() {
    const base = lang === "sv" ? "Konsol" : "Console";
    const count = queue.mine.filter((c) => unread.has(c.id)).length;
    return (count ? "(" + count + ") " : "") + base;
  }
  function renderQueue() {
    ui.waiting.replaceChildren(...queue.waiting.map(waitingItem));
    ui.mine.replaceChildren(...queue.mine.map(openItem));
    ui.waitingCount.textContent = String(queue.waiting.length);
    ui.mineCount.textContent = String(queue.mine.length);
    ui.waitingEmpty.hidden = queue.waiting.length > 0;
    ui.mineEmpty.hidden = queue.mine.length > 0;
    renderMe();
    renderSupervisor();
    if (!titleBlink) document.title = baseTitle();
  }
  function tickTimers() {
    document.querySelectorAll(".wait[data-since]").forEach((n) => {
      n.textContent = S.waiting + " " + formatWait(n.dataset.since);
      n.classList.toggle("late", Boolean(n.dataset.limit) && waitedSeconds(n.dataset.since) > Number(n.dataset.limit));
    });
    checkAlerts();
  }
  function setQueue(f) {
    queue = {
      waiting: Array.isArray(f.waiting) ? f.waiting : [], mine: Array.isArray(f.mine) ? f.mine : [],
      queues: Array.isArray(f.queues) ? f.queues : [], me: f.me || null, supervisor: f.supervisor || null,
    };
    if (current) {
      const fresh = queue.mine.find((c) => c.id === current.id)
        || (queue.supervisor && (queue.supervisor.active || []).find((c) => c.id === current.id));
      if (fresh) showSummary(fresh);
      else if (current.state !== "closed") openConversation(current.id); // closed or moved elsewhere?
    }
    renderQueue();
    checkAlerts();
  }
  function upsertMine(c) {
    const i = queue.mine.findIndex((x) => x.id === c.id);
    if (c.state !== "active") { if (i >= 0) queue.mine.splice(i, 1); }
    else if (i >= 0) queue.mine[i] = c;
    else queue.mine.push(c);
    queue.waiting = queue.waiting.filter((x) => x.id !== c.id);
  }

  // -- chat pane -----------------------------------------------------------------------------
  const mayAct = (c) => c && c.state === "active" && (c.claimed_by === document.body.dataset.user);
  function showSummary(c) {
    current = c;
    ui.title.textContent = c.pseudonym || "#" + c.id;
    const rows = [
      [S.group, label("groups", c.group)], [S.risk, riskBadge(c.risk)], [S.needs, list("needsMap", c.needs)],
      [S.language, c.language ? String(c.language).toUpperCase() : S.none],
      [S.queue, c.queue_name || c.queue || S.none], [S.channel, c.channel || S.none],
    ];
    if (c.claimed_by) rows.push([S.holder, c.claimed_by]);
    if (c.earlier) rows.push([S.earlier, S.earlierTimes.replace("{n}", String(c.earlier))]);
    if (Array.isArray(c.flags) && c.flags.length) rows.push([S.flags, list("flagsMap", c.flags)]);
    if (Array.isArray(c.flag_words) && c.flag_words.length) rows.push(["⚑", c.flag_words.join(", ")]);
    ui.summary.replaceChildren();
    rows.forEach(([term, value]) => {
      const div = ui.summary.appendChild(make("div", "summary-row"));
      div.appendChild(make("dt", null, term));
      const dd = div.appendChild(make("dd"));
      if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    });
    const closed = c.state === "closed";
    const mine = mayAct(c);
    ui.closedNote.hidden = !closed;
    ui.reply.disabled = ui.send.disabled = !mine;
    ui.close.disabled = !(mine || (supervisor && c.state === "active"));
    $("wrapup-submit").disabled = ui.close.disabled;
    $("transfer-submit").disabled = !(mine || (supervisor && !closed));
    $("note-add").disabled = !(mine || supervisor);
  }
  function appendMessage(m) {
    if (!m || typeof m.text !== "string") return;
    if (m.id != null) { if (shownIds.has(m.id)) return; shownIds.add(m.id); }
    const who = AUTHORS.includes(m.author) ? m.author : "system";
    const li = make("li", "msg msg-" + who);
    if (m.id != null) li.dataset.id = String(m.id);
    const names = {
      contact: current ? current.pseudonym : null, bot: S.bot, counsellor: m.author_name || S.counsellor,
    };
    if (names[who]) li.appendChild(make("span", "msg-author", names[who]));
    li.appendChild(make("p", "msg-text", m.text));
    const time = li.appendChild(make("time", "msg-time", formatTime(m.at)));
    if (m.at) time.dateTime = m.at;
    ui.transcript.appendChild(li);
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }
  function appendNote(n) {
    if (!n || typeof n.text !== "string") return;
    if (ui.notes.querySelector('[data-id="' + Number(n.id) + '"]')) return;
    const li = make("li", "note note-" + (n.kind || "note"));
    li.dataset.id = String(n.id);
    const head = li.appendChild(make("span", "note-head"));
    head.textContent = label("noteKinds", n.kind) + (n.author_name ? " · " + n.author_name : "") + " · " + formatTime(n.at);
    li.appendChild(make("p", "note-text", n.text));
    ui.notes.appendChild(li);
  }
  async function openConversation(id) {
    const seq = ++openSeq; // only the latest click wins
    const { status, data } = await api("GET", convPath(id));
    if (seq !== openSeq) return;
    if (status !== 200 || !data || !data.conversation) {
      if (status === 404 || status === 403) {
        showAlert(S.notFound);
        if (current && current.id === id) clearPane();
      } else if (status) showAlert(S.failed);
      return;
    }
    const switching = !current || current.id !== data.conversation.id;
    showSummary(data.conversation);
    shownIds.clear();
    ui.transcript.replaceChildren();
    (data.messages || []).forEach(appendMessage);
    ui.notes.replaceChildren();
    (data.notes || []).forEach(appendNote);
    if (switching) { ui.reply.value = ""; resetWrapup(); }
    ui.empty.hidden = true;
    ui.open.hidden = false;
    unread.delete(id);
    renderQueue();
    saveState();
    if (switching && !ui.reply.disabled) ui.reply.focus();
  }
  function hideTyping() { clearTimeout(typingTimer); ui.typing.hidden = true; }
  function clearPane() {
    current = null;
    hideTyping();
    shownIds.clear();
    ui.transcript.replaceChildren();
    ui.summary.replaceChildren();
    ui.notes.replaceChildren();
    ui.title.textContent = "";
    ui.reply.value = "";
    ui.open.hidden = true;
    ui.empty.hidden = false;
    renderQueue();
    saveState();
  }

  // -- tools: tabs, canned replies, referrals, notes, transfer, wrap-up ----------------------
  function showTab(name, focus) {
    activeTab = TABS.includes(name) ? name : "notes";
    TABS.forEach((t) => {
      const on = t === activeTab;
      $("tab-" + t).setAttribute("aria-selected", String(on));
      $("tab-" + t).tabIndex = on ? 0 : -1;
      $("panel-" + t).hidden = !on;
    });
    saveState();
    if (focus) {
      const first = $("panel-" + activeTab).querySelector("input, select, textarea, button");
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
    ui.cannedList.replaceChildren(...directory.canned.filter((c) => matches(q, c.id, c.title, c.text)).map((c) => {
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
  function renderReferrals() {
    const q = ui.refSearch.value;
    const rows = directory.referrals.filter((r) => matches(q, r.name, r.text, r.phone, ...(r.needs || []).map(
      (n) => label("needsMap", n))));
    ui.refList.replaceChildren(...rows.map((r) => {
      const li = make("li", "pick");
      li.appendChild(make("span", "pick-title", r.name + (r.phone ? " · " + r.phone : "")));
      li.appendChild(make("span", "pick-text", r.text));
      const btn = li.appendChild(make("button", "plain", S.insert));
      btn.type = "button";
      btn.dataset.id = r.id;
      btn.addEventListener("click", () => {
        if (current) {
          if (!given.has(current.id)) given.set(current.id, new Set());
          given.get(current.id).add(r.id);
          syncWrapupReferrals();
        }
        insertIntoReply(r.text);
      });
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
    ui.outcome.replaceChildren(ui.outcome.options[0] || make("option", null, "–"));
    directory.outcomes.forEach((o) => {
      const opt = ui.outcome.appendChild(make("option", null, label("outcomes", o)));
      opt.value = o;
    });
    ui.wrapRefs.replaceChildren();
    directory.referrals.forEach((r) => checkbox(ui.wrapRefs, "ref", r.id, r.name));
    ui.wrapNeeds.replaceChildren();
    NEEDS.forEach((n) => checkbox(ui.wrapNeeds, "need", n, label("needsMap", n)));
  }
  function syncWrapupReferrals() {
    const ids = current && given.get(current.id);
    if (!ids) return;
    ui.wrapRefs.querySelectorAll("input").forEach((b) => { if (ids.has(b.value)) b.checked = true; });
  }
  function resetWrapup() {
    ui.outcome.value = "";
    ui.wrapError.hidden = true;
    ui.wrapRefs.querySelectorAll("input").forEach((b) => { b.checked = false; });
    const needs = new Set((current && current.needs) || []);
    ui.wrapNeeds.querySelectorAll("input").forEach((b) => { b.checked = needs.has(b.value); });
    syncWrapupReferrals();
  }
  function buildTransferTargets() {
    const options = [];
    (directory.queues || []).forEach((q) => {
      const o = make("option", null, fill(S.toQueue, { name: q.name }));
      o.value = "queue:" + q.id;
      options.push(o);
    });
    (directory.colleagues || []).forEach((name) => {
      const o = make("option", null, fill(S.toColleague, { name }));
      o.value = "to:" + name;
      options.push(o);
    });
    ui.transferTarget.replaceChildren(...options);
  }
  async function loadDirectory() {
    const { status, data } = await api("GET", "/api/console/directory");
    if (status !== 200 || !data) return;
    directory = data;
    renderCanned();
    renderReferrals();
    buildWrapup();
    buildTransferTargets();
    resetWrapup();
  }
  function expandShortcut() {
    const r = ui.reply;
    const before = r.value.slice(0, r.selectionStart);
    const m = before.match(/(?:^|\s)\/([a-z0-9_-]+)$/);
    if (!m) return false;
    const canned = directory.canned.find((c) => c.id === m[1]);
    if (!canned) return false;
    const start = r.selectionStart - m[1].length - 1;
    r.value = r.value.slice(0, start) + canned.text + r.value.slice(r.selectionStart);
    r.selectionStart = r.selectionEnd = start + canned.text.length;
    return true;
  }
  async function addNote(ev) {
    ev.preventDefault();
    const text = ui.noteText.value.trim();
    if (!text || !current) return;
    const { status, data } = await api("POST", convPath(current.id, "notes"), { text });
    if (status === 201 && data) { appendNote(data.note); ui.noteText.value = ""; }
    else if (status) showAlert((data && data.message) || S.failed);
  }
  async function transferConversation(ev) {
    ev.preventDefault();
    if (!current) return;
    const note = ui.transferNote.value.trim();
    if (!note && !supervisor) { showAlert(S.noteRequired); ui.transferNote.focus(); return; }
    const [kind, target] = ui.transferTarget.value.split(/:(.*)/s);
    const body = { note, queue: kind === "queue" ? target : null, to: kind === "to" ? target : null };
    const id = current.id;
    const { status, data } = await api("POST", convPath(id, "transfer"), body);
    if (status !== 200) { if (status) showAlert((data && data.message) || S.failed); return; }
    ui.transferNote.value = "";
    showAlert(S.transferred);
    if (!supervisor) { openSeq++; queue.mine = queue.mine.filter((c) => c.id !== id); clearPane(); }
    else openConversation(id);
  }
  async function closeConversation(ev) {
    if (ev) ev.preventDefault();
    if (!current) return;
    if (!ui.outcome.value) {
      ui.wrapError.textContent = S.chooseOutcome;
      ui.wrapError.hidden = false;
      showTab("wrapup");
      ui.outcome.focus();
      return;
    }
    const picked = (box) => Array.from(box.querySelectorAll("input:checked"), (b) => b.value);
    const body = { outcome: ui.outcome.value, referrals: picked(ui.wrapRefs), needs: picked(ui.wrapNeeds) };
    const id = current.id;
    const { status, data } = await api("POST", convPath(id, "close"), body);
    if (status !== 200) { if (status) showAlert((data && data.message) || S.failed); return; }
    given.delete(id);
    openSeq++; // a reload of this conversation started by a queue frame must not show it again
    upsertMine((data && data.conversation) || { id, state: "closed" });
    if (current && current.id === id) clearPane(); else renderQueue();
  }

  // -- actions -------------------------------------------------------------------------------
  function claimRefused(status, data) {
    const code = data && data.error;
    if (code === "at_capacity") showAlert(S.atCapacity);
    else if (code === "not_skilled") showAlert(S.notSkilled);
    else if (status === 409) showAlert(S.taken);
    else if (status) showAlert(S.failed);
  }
  async function claim(id, btn) {
    btn.disabled = true;
    const { status, data } = await api("POST", convPath(id, "claim"));
    if (status === 200) {
      if (data && data.conversation) upsertMine(data.conversation);
      renderQueue();
      await openConversation(id);
    } else {
      if (status === 409 && data && data.error === "already_claimed") {
        queue.waiting = queue.waiting.filter((c) => c.id !== id);
        renderQueue();
      } else btn.disabled = false;
      claimRefused(status, data);
    }
  }
  async function takeNext() {
    if (ui.next.disabled) return;
    ui.next.disabled = true;
    const { status, data } = await api("POST", "/api/console/next");
    ui.next.disabled = false;
    if (status === 200 && data && data.conversation) {
      upsertMine(data.conversation);
      renderQueue();
      await openConversation(data.conversation.id);
    } else if (status === 200) showAlert(S.nothing);
    else claimRefused(status, data);
    renderMe();
  }
  async function sendReply() {
    const text = ui.reply.value.trim();
    if (!text || !current || ui.send.disabled) return;
    const id = current.id;
    ui.send.disabled = true;
    const { status, data } = await api("POST", convPath(id, "messages"), { text });
    ui.send.disabled = !mayAct(current);
    if (status === 201) {
      if (current && current.id === id) {
        if (data && data.message) appendMessage(data.message);
        if (ui.reply.value.trim() === text) ui.reply.value = "";
      }
    } else if (status) {
      showAlert((data && data.message) || S.failed);
    }
  }
  async function setPresence() {
    const { status } = await api("POST", "/api/console/presence", { presence: ui.presence.value });
    if (status !== 200 && status) showAlert(S.failed);
  }
  function maybeSendTyping() {
    const now = Date.now();
    if (!current || !ws || ws.readyState !== WebSocket.OPEN || now - lastTyping < 2000) return;
    lastTyping = now;
    ws.send(JSON.stringify({ type: "typing", conversation: current.id }));
  }
  function switchConversation(step) {
    const ids = queue.mine.map((c) => c.id);
    if (!ids.length) return;
    const at = current ? ids.indexOf(current.id) : -1;
    openConversation(ids[(at + step + ids.length) % ids.length]);
  }

  // -- WebSocket -----------------------------------------------------------------------------
  function onFrame(f) {
    if (!f || typeof f !== "object") return;
    if (f.type === "queue") {
      setQueue(f);
    } else if (f.type === "message") {
      if (current && f.conversation === current.id) { appendMessage(f.message); hideTyping(); }
      else if ((!f.message || f.message.author !== "counsellor")
        && !queue.waiting.some((c) => c.id === f.conversation)) unread.add(f.conversation); // unread: open chats only
      renderQueue();
    } else if (f.type === "note") {
      if (current && f.conversation === current.id) appendNote(f.note);
    } else if (f.type === "typing" && current && f.conversation === current.id) {
      ui.typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(hideTyping, 3000);
    } else if (f.type === "conversation" && f.conversation) {
      upsertMine(f.conversation);
      if (current && current.id === f.conversation.id) showSummary(f.conversation);
      renderQueue();
    }
  }
  function setConn(online) {
    ui.conn.textContent = online ? S.connected : S.offline;
    ui.conn.dataset.state = online ? "online" : "offline";
  }
  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/console/ws";
    let sock;
    try { sock = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    ws = sock;
    let restored = false;
    sock.addEventListener("open", () => { setConn(true); backoff = 1000; });
    sock.addEventListener("message", (ev) => {
      let f = null;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      onFrame(f);
      if (!restored && f && f.type === "queue") {
        restored = true; // after a (re)connect: reload the open conversation, messages may have been missed
        const wanted = current ? current.id : restore.current;
        if (wanted) openConversation(wanted);
      }
    });
    sock.addEventListener("close", (ev) => {
      if (ws !== sock) return;
      ws = null;
      if (ev.code === 4401) { location.assign("/console"); return; } // the session ended: log in again
      setConn(false);
      scheduleReconnect();
    });
  }
  function scheduleReconnect() {
    if (reconnectTimer) return;
    reconnectTimer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }

  // -- wiring --------------------------------------------------------------------------------
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
  TABS.forEach((t, i) => {
    $("tab-" + t).addEventListener("click", () => showTab(t, false));
    $("tab-" + t).addEventListener("keydown", (ev) => {
      const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
      if (step) { const next = TABS[(i + step + TABS.length) % TABS.length]; showTab(next); $("tab-" + next).focus(); }
    });
  });
  document.addEventListener("keydown", (ev) => {
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
    else if (key === "w" || code === "KeyW") { showTab("wrapup", true); }
    else if (/^Digit[1-5]$/.test(code)) showTab(TABS[Number(code.slice(5)) - 1], true);
    else handled = false;
    if (handled) ev.preventDefault();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !queue.waiting.some((c) => c.risk === "acute")) stopBlink(); });
  document.addEventListener("click", () => {
    try { if (window.Notification && Notification.permission === "default") Notification.requestPermission(); } catch (e) { }
  }, { once: true });
  setInterval(tickTimers, 1000);
  window.addEventListener("online", () => { if (!ws && reconnectTimer) connect(); });

  const restore = loadState(); // read before anything saves over it
  showTab(restore.tab || "notes");
  renderQueue();
  loadDirectory();
  connect();
})();
