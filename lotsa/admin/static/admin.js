// The admin document page: the YAML editor's line numbers and problems at their lines, publish with
// a conflict check, history diff and rollback, the simulator and the sample table; on the queues form,
// typing a queue's hours ticks that they are its own. A native ES module
// served by Lotsa (no build step, no external resources); the texts come from the page data.
import { $, make, readPageData, translator } from "/static/common/common.js";

const data = readPageData();
const t = translator((data.texts || {})[data.lang]);
const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
const doc = $("doc");

async function api(method, path, body) {
  const options = { method, headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const res = await fetch(path, options);
  let answer = {};
  try { answer = await res.json(); } catch (e) { answer = {}; }
  return { status: res.status, body: answer };
}

// -- the editor: a textarea with a line-number gutter ------------------------------------------
const draft = $("draft");
const gutter = $("gutter");
let problemLines = new Set();

function drawGutter() {
  const lines = draft.value.split("\n").length;
  gutter.replaceChildren();
  for (let n = 1; n <= lines; n++) {
    const mark = make("span", problemLines.has(n) ? "gl gl-problem" : "gl", String(n));
    gutter.append(mark, "\n");
  }
  gutter.scrollTop = draft.scrollTop;
}

function goToLine(line) {
  const lines = draft.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
  draft.focus();
  draft.setSelectionRange(start, start + (lines[line - 1] || "").length);
  const lineHeight = parseFloat(getComputedStyle(draft).lineHeight) || 20;
  draft.scrollTop = Math.max(0, (line - 3) * lineHeight);
  gutter.scrollTop = draft.scrollTop;
}

function showProblems(problems) {
  const list = $("problems");
  list.replaceChildren();
  problemLines = new Set(problems.filter((p) => p.line).map((p) => p.line));
  for (const p of problems) {
    const item = make("li", "problem");
    const where = p.line ? t("doc.at_line", { line: p.line }) : t("doc.no_line");
    const text = `${where}${p.key ? " · " + p.key : ""}: ${p.message}`;
    if (p.line) {
      const jump = make("button", "problem-jump", text);
      jump.type = "button";
      jump.dataset.line = p.line;
      jump.addEventListener("click", () => goToLine(p.line));
      item.append(jump);
    } else {
      item.textContent = text;
    }
    list.append(item);
  }
  $("problems-status").textContent = problems.length ? t("doc.problems", { n: problems.length }) : t("doc.valid");
  drawGutter();
}

async function checkDraft() {
  const { status, body } = await api("POST", `${docPath()}/check`, { content: draft.value });
  if (status === 200) showProblems(body.problems || []);
  else $("problems-status").textContent = body.message || t("doc.failed");
  return status === 200 && body.ok;
}

const docPath = () => `/api/admin/documents/${doc.dataset.kind}/${doc.dataset.name}`;

if (draft) {
  drawGutter();
  draft.addEventListener("scroll", () => { gutter.scrollTop = draft.scrollTop; });
  let timer = null;
  draft.addEventListener("input", () => {
    drawGutter();
    if (doc.dataset.edit !== "1") return;
    clearTimeout(timer);
    timer = setTimeout(checkDraft, 700);
  });
}

// -- publish, conflict, history, diff, rollback -----------------------------------------------
function renderDiff(node, lines) {
  node.replaceChildren();
  for (const line of lines) {
    const kind = line.startsWith("+") && !line.startsWith("+++") ? "add"
      : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : "same";
    node.append(make("span", `diff-${kind}`, line), "\n");
  }
  if (!lines.length) node.textContent = t("history.no_difference");
  node.hidden = false;
}

async function publishDraft(base) {
  const status = $("publish-status");
  status.textContent = t("doc.publishing");
  const { status: code, body } = await api("POST", `${docPath()}/publish`, {
    content: draft.value, comment: $("comment").value, base_version: base,
  });
  if (code === 201) {
    status.textContent = t("doc.published", { version: body.version.version });
    setTimeout(() => window.location.reload(), 600);
  } else if (code === 409) {
    $("conflict").hidden = false;
    $("conflict-text").textContent = t("doc.conflict", { version: body.active.version, who: body.active.author,
      comment: body.active.comment });
    renderDiff($("conflict-diff"), body.diff || []);
    $("publish-over").dataset.version = body.active.version;
    status.textContent = t("doc.not_published");
    $("conflict-text").focus?.();
  } else if (code === 422) {
    showProblems(body.problems || []);
    status.textContent = t("doc.not_published");
  } else {
    status.textContent = body.message || t("doc.failed");
  }
}

if ($("publish-form")) {
  $("publish-form").addEventListener("submit", (e) => {
    e.preventDefault();
    publishDraft(Number(doc.dataset.version));
  });
  $("check").addEventListener("click", checkDraft);
  $("publish-over").addEventListener("click", (e) => {
    if (!$("publish-form").reportValidity()) return;
    publishDraft(Number(e.currentTarget.dataset.version));
  });
}

$("diff-show")?.addEventListener("click", async () => {
  const from = document.querySelector('input[name="diff-from"]:checked');
  const to = document.querySelector('input[name="diff-to"]:checked');
  if (!from || !to) return;
  const { status, body } = await api("GET", `${docPath()}/diff?from=${from.value}&to=${to.value}`);
  if (status === 200) {
    renderDiff($("diff-view"), body.diff);
    $("history-status").textContent = t("history.diff_shown", { from: body.from, to: body.to });
  } else {
    $("history-status").textContent = body.message || t("doc.failed");
  }
});

document.querySelectorAll("button.rollback").forEach((button) => button.addEventListener("click", async () => {
  const version = Number(button.dataset.version);
  const { status, body } = await api("POST", `${docPath()}/rollback`, { version, comment: $("comment")?.value || "" });
  if (status === 201) {
    $("history-status").textContent = t("history.rolled_back", { version, now: body.version.version });
    setTimeout(() => window.location.reload(), 600);
  } else {
    $("history-status").textContent = body.message || t("doc.failed");
  }
}));

// -- the simulator ------------------------------------------------------------------------------
let sim = null;

function simLine(author, text) {
  const item = make("li", `msg msg-${author}`);
  item.append(make("p", "msg-text", text));
  $("sim-transcript").append(item);
  item.scrollIntoView({ block: "nearest" });
  return item;
}

function verdictText(v) {
  const flags = v.flags.length ? v.flags.join(", ") : t("sim.no_flags");
  const words = v.flag_words.length ? ` — ${t("sim.words")}: “${v.flag_words.join("”, “")}”` : "";
  const possible = v.possible_flags.length ? ` · ${t("sim.possible")}: ${v.possible_flags.join(", ")}` : "";
  return `${t("sim.verdict")}: ${t("sim.group")} ${v.group} (${v.confidence}) · ${t("sim.flags")}: ${flags}${words}`
    + `${possible} · ${t("sim.risk")}: ${v.risk} · ${t("sim.needs")}: ${v.needs.join(", ") || "—"}`;
}

function showFrame(frame) {
  sim = frame;
  if (frame.verdict) simLine("system verdict", verdictText(frame.verdict));
  const choices = $("sim-choices");
  choices.replaceChildren();
  for (const reply of frame.replies) {
    simLine("bot", reply.text);
    for (const [id, label] of reply.choices) {
      const button = make("button", "choice", label);
      button.type = "button";
      button.dataset.choice = id;
      button.addEventListener("click", () => simAnswer({ choice: id, label }));
      choices.append(button);
    }
  }
  const end = frame.end;
  const open = !end;
  $("sim-input").disabled = !open;
  $("sim-send").disabled = !open;
  if (end && end.kind === "handoff") {
    $("sim-end").textContent = t("sim.ended_queue", { queue: end.queue, group: end.group, risk: end.risk,
      flags: end.flags.join(", ") || "—" });
  } else if (end) {
    $("sim-end").textContent = t("sim.ended_closed");
  } else {
    $("sim-end").textContent = "";
  }
}

function simBusy(busy) {
  // One answer at a time: the next is based on the state the previous one returns.
  $("sim-input").disabled = busy;
  $("sim-send").disabled = busy;
  $("sim-choices").querySelectorAll("button").forEach((b) => { b.disabled = busy; });
}

async function simAnswer({ choice = null, label = "", text = "" }) {
  if (!sim || sim.end) return;
  simBusy(true);
  simLine("contact", choice ? label : text);
  const { status, body } = await api("POST", "/api/admin/simulate", {
    name: doc.dataset.name, content: draft.value, state: sim.state, record: sim.record, text, choice,
  });
  if (status === 200) {
    showFrame(body);
  } else {
    simBusy(false);
    $("sim-end").textContent = body.message || t("doc.failed");
  }
}

$("sim-start")?.addEventListener("click", async () => {
  $("sim-transcript").replaceChildren();
  $("sim-end").textContent = "";
  const { status, body } = await api("POST", "/api/admin/simulate", {
    name: doc.dataset.name, content: draft.value, state: null, lang: $("sim-lang").value,
  });
  if (status === 200) showFrame(body);
  else $("sim-end").textContent = body.message || t("doc.failed");
});

$("sim-form")?.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("sim-input").value.trim();
  if (!text) return;
  $("sim-input").value = "";
  simAnswer({ text });
});

// -- the sample table ------------------------------------------------------------------------------
function cells(row, side) {
  const way = row[side];
  const queue = way.end === "handoff" ? way.queue : t(`sample.end_${way.end}`);
  return [way.group, way.flags.join(", ") || "—", way.risk, queue].map((text) => make("td", `side-${side}`, text));
}

$("sample-run")?.addEventListener("click", async () => {
  const messages = $("sample-input").value.split("\n").map((m) => m.trim()).filter(Boolean);
  $("sample-status").textContent = t("sample.running");
  const { status, body } = await api("POST", "/api/admin/sample", {
    kind: doc.dataset.kind, name: doc.dataset.name, content: draft.value, messages,
  });
  if (status !== 200) {
    $("sample-status").textContent = body.message || t("doc.failed");
    return;
  }
  const rows = $("sample-rows");
  rows.replaceChildren();
  for (const row of body.rows) {
    const tr = make("tr", row.changed ? "changed" : "");
    tr.append(make("td", "sample-text", row.text), ...cells(row, "draft"), ...cells(row, "active"),
      make("td", "change-mark", row.changed ? t("sample.changed") : t("sample.same")));
    rows.append(tr);
  }
  $("sample-table").hidden = false;
  const changed = body.rows.filter((r) => r.changed).length;
  $("sample-status").textContent = t("sample.summary", { n: body.rows.length, changed });
});

// -- the queue preview: who would land where, now and at 23:00 ----------------------------------
$("preview-run")?.addEventListener("click", async () => {
  $("preview-status").textContent = t("sample.running");
  const { status, body } = await api("POST", "/api/admin/queues/preview", { content: draft.value });
  if (status !== 200) {
    $("preview-status").textContent = body.message || t("doc.failed");
    return;
  }
  const rows = $("preview-rows");
  rows.replaceChildren();
  for (const row of body.rows) {
    const tr = make("tr", row.acute ? "acute" : "");
    const who = row.acute ? t("preview.acute") : row.group;
    const state = (open) => (open ? t("preview.open") : t("preview.closed"));
    tr.append(make("td", "", who), make("td", "", row.language), make("td", "", `${row.queue_name} (${row.queue})`),
      make("td", row.open_now ? "open" : "closed", state(row.open_now)),
      make("td", row.open_late ? "open" : "closed", state(row.open_late)));
    rows.append(tr);
  }
  $("preview-now").textContent = t("preview.now_at", { when: body.now });
  $("preview-late").textContent = t("preview.late_at", { when: body.late });
  $("preview-table").hidden = false;
  $("preview-status").textContent = t("preview.done", { n: body.rows.length });
});

// -- the queues form (/admin/queues, a plain form): typing a queue's hours makes them its own ----
document.querySelectorAll("[data-own]").forEach((field) => field.addEventListener("input", () => {
  const own = $(field.dataset.own);
  if (own) own.checked = true;
}));
