// Lotsa counsellor console. Speaks the protocol in docs/protocol.md.
"use strict";
(() => {
  const STRINGS = {
    sv: {
      connected: "Ansluten", offline: "Frånkopplad – ansluter igen…", claim: "Ta samtalet",
      taken: "Någon annan tog samtalet", failed: "Det gick inte. Försök igen.",
      network: "Nätverksfel. Försök igen.", notFound: "Samtalet är inte ditt längre, eller finns inte.",
      unread: "Nytt", waiting: "väntat", bot: "Bot", counsellor: "Samtalsstödjare",
      group: "Grupp", risk: "Risk", needs: "Behov", language: "Språk", queue: "Kö", flags: "Flaggor",
      channel: "Kanal", none: "–",
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
      connected: "Connected", offline: "Disconnected – reconnecting…", claim: "Claim",
      taken: "Someone else took this conversation", failed: "That did not work. Please try again.",
      network: "Network error. Please try again.",
      notFound: "The conversation is no longer yours, or does not exist.",
      unread: "New", waiting: "waiting", bot: "Bot", counsellor: "Counsellor",
      group: "Group", risk: "Risk", needs: "Needs", language: "Language", queue: "Queue", flags: "Flags",
      channel: "Channel", none: "–",
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

  const $ = (id) => document.getElementById(id);
  const htmlLang = document.documentElement.lang || document.body.dataset.lang;
  const lang = htmlLang === "en" ? "en" : "sv";
  const S = STRINGS[lang];
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const ui = {
    waiting: $("waiting"), mine: $("mine"), waitingCount: $("waiting-count"), mineCount: $("mine-count"),
    waitingEmpty: $("waiting-empty"), mineEmpty: $("mine-empty"), alert: $("console-alert"), conn: $("conn"),
    empty: $("chat-empty"), open: $("chat-open"), title: $("chat-title"), summary: $("chat-summary"),
    transcript: $("console-transcript"), closedNote: $("chat-closed"), form: $("reply-form"),
    reply: $("reply"), send: $("send-reply"), close: $("close-conv"), typing: $("console-typing"),
  };

  let queue = { waiting: [], mine: [] };
  let current = null;          // Summary of the conversation shown in the chat pane
  const shownIds = new Set();  // message ids in the chat pane
  const unread = new Set();    // conversation ids with messages not seen yet
  let ws = null, backoff = 1000, reconnectTimer = null, lastTyping = 0, alertTimer = null, openSeq = 0;
  let typingTimer = null;

  // -- helpers -------------------------------------------------------------------------------
  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  const label = (map, key) => (key == null || key === "" ? S.none : (S[map] && S[map][key]) || String(key));
  const list = (map, keys) => (Array.isArray(keys) && keys.length
    ? keys.map((k) => label(map, k)).join(", ") : S.none);
  function formatTime(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return "";
    return d.toLocaleTimeString(lang === "sv" ? "sv-SE" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  }
  function formatWait(iso) {
    const since = Date.parse(iso);
    if (!iso || Number.isNaN(since)) return "";
    const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
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
    if (unread.has(c.id)) top.appendChild(make("span", "unread", S.unread));
    const language = c.language ? String(c.language).toUpperCase() : null;
    const facts = [c.queue_name || c.queue, label("groups", c.group), language, c.channel];
    box.appendChild(make("span", "conv-facts", facts.filter(Boolean).join(" · ")));
    if (c.waiting_since) {
      const wait = box.appendChild(make("span", "wait", S.waiting + " " + formatWait(c.waiting_since)));
      wait.dataset.since = c.waiting_since;
    }
    if (Array.isArray(c.flag_words) && c.flag_words.length) {
      box.appendChild(make("span", "flag-words", "⚑ " + c.flag_words.join(", ")));
    }
    return box;
  }
  function waitingItem(c) {
    const li = make("li", "conv");
    li.dataset.id = String(c.id);
    li.appendChild(convBody(c));
    const btn = li.appendChild(make("button", "claim", S.claim));
    btn.type = "button";
    btn.addEventListener("click", () => claim(c.id, btn));
    return li;
  }
  function mineItem(c) {
    const li = make("li", "conv");
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
  function renderQueue() {
    ui.waiting.replaceChildren(...queue.waiting.map(waitingItem));
    ui.mine.replaceChildren(...queue.mine.map(mineItem));
    ui.waitingCount.textContent = String(queue.waiting.length);
    ui.mineCount.textContent = String(queue.mine.length);
    ui.waitingEmpty.hidden = queue.waiting.length > 0;
    ui.mineEmpty.hidden = queue.mine.length > 0;
    const base = lang === "sv" ? "Konsol" : "Console";
    const count = queue.mine.filter((c) => unread.has(c.id)).length;
    document.title = (count ? "(" + count + ") " : "") + base;
  }
  function tickTimers() {
    document.querySelectorAll(".wait[data-since]").forEach((n) => {
      n.textContent = S.waiting + " " + formatWait(n.dataset.since);
    });
  }
  function setQueue(waiting, mine) {
    queue = { waiting: Array.isArray(waiting) ? waiting : [], mine: Array.isArray(mine) ? mine : [] };
    if (current) {
      const fresh = queue.mine.find((c) => c.id === current.id);
      if (fresh) showSummary(fresh);
      else if (current.state !== "closed") openConversation(current.id); // closed or moved elsewhere?
    }
    renderQueue();
  }
  function upsertMine(c) {
    const i = queue.mine.findIndex((x) => x.id === c.id);
    if (c.state === "closed") { if (i >= 0) queue.mine.splice(i, 1); }
    else if (i >= 0) queue.mine[i] = c;
    else queue.mine.push(c);
    queue.waiting = queue.waiting.filter((x) => x.id !== c.id);
  }

  // -- chat pane -----------------------------------------------------------------------------
  function showSummary(c) {
    current = c;
    ui.title.textContent = c.pseudonym || "#" + c.id;
    const rows = [
      [S.group, label("groups", c.group)], [S.risk, riskBadge(c.risk)], [S.needs, list("needsMap", c.needs)],
      [S.language, c.language ? String(c.language).toUpperCase() : S.none],
      [S.queue, c.queue_name || c.queue || S.none], [S.channel, c.channel || S.none],
    ];
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
    ui.closedNote.hidden = !closed;
    ui.reply.disabled = ui.send.disabled = ui.close.disabled = closed;
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
    if (switching) ui.reply.value = "";
    ui.empty.hidden = true;
    ui.open.hidden = false;
    unread.delete(id);
    renderQueue();
    if (switching && !ui.reply.disabled) ui.reply.focus();
  }
  function hideTyping() { clearTimeout(typingTimer); ui.typing.hidden = true; }
  function clearPane() {
    current = null;
    hideTyping();
    shownIds.clear();
    ui.transcript.replaceChildren();
    ui.summary.replaceChildren();
    ui.title.textContent = "";
    ui.reply.value = "";
    ui.open.hidden = true;
    ui.empty.hidden = false;
    renderQueue();
  }

  // -- actions -------------------------------------------------------------------------------
  async function claim(id, btn) {
    btn.disabled = true;
    const { status, data } = await api("POST", convPath(id, "claim"));
    if (status === 200) {
      if (data && data.conversation) upsertMine(data.conversation);
      renderQueue();
      await openConversation(id);
    } else if (status === 409) {
      showAlert(S.taken);
      queue.waiting = queue.waiting.filter((c) => c.id !== id);
      renderQueue();
    } else {
      btn.disabled = false;
      if (status) showAlert(S.failed);
    }
  }
  async function sendReply() {
    const text = ui.reply.value.trim();
    if (!text || !current || ui.send.disabled) return;
    const id = current.id;
    ui.send.disabled = true;
    const { status, data } = await api("POST", convPath(id, "messages"), { text });
    ui.send.disabled = current ? current.state === "closed" : true;
    if (status === 201) {
      if (current && current.id === id) {
        if (data && data.message) appendMessage(data.message);
        if (ui.reply.value.trim() === text) ui.reply.value = "";
      }
    } else if (status) {
      showAlert((data && data.message) || S.failed);
    }
  }
  async function closeConversation() {
    if (!current) return;
    const id = current.id;
    const { status, data } = await api("POST", convPath(id, "close"));
    if (status !== 200) { if (status) showAlert(S.failed); return; }
    upsertMine((data && data.conversation) || { id, state: "closed" });
    if (current && current.id === id) clearPane(); else renderQueue();
  }
  function maybeSendTyping() {
    const now = Date.now();
    if (!current || !ws || ws.readyState !== WebSocket.OPEN || now - lastTyping < 2000) return;
    lastTyping = now;
    ws.send(JSON.stringify({ type: "typing", conversation: current.id }));
  }

  // -- WebSocket -----------------------------------------------------------------------------
  function onFrame(f) {
    if (!f || typeof f !== "object") return;
    if (f.type === "queue") {
      setQueue(f.waiting, f.mine);
    } else if (f.type === "message") {
      if (current && f.conversation === current.id) { appendMessage(f.message); hideTyping(); }
      else if (!f.message || f.message.author !== "counsellor") unread.add(f.conversation);
      renderQueue();
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
        restored = true; // after a reconnect: restore the open conversation (messages may be missed)
        if (current) openConversation(current.id);
      }
    });
    sock.addEventListener("close", () => {
      if (ws !== sock) return;
      ws = null;
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
  });
  ui.reply.addEventListener("input", maybeSendTyping);
  ui.close.addEventListener("click", closeConversation);
  setInterval(tickTimers, 1000);
  window.addEventListener("online", () => { if (!ws && reconnectTimer) connect(); });

  renderQueue();
  connect();
})();
