// The operators' feedback queue: filter by status and text, move a request along the workflow
// with a note, give it to another agency, read its timeline and add internal notes. Reads and
// writes /api/v1/feedback, which applies the caller's scope and role.
import { api, el, header, me, requireLogin, t, translate, when } from "/ui/static/js/common.js";

requireLogin();
translate();
header("queue");

const STATUSES = ["received", "assigned", "in_progress", "resolved", "closed", "rejected"];
const DISPATCHERS = ["operator", "district_admin"]; // who may give a request to another agency
const $ = (id) => document.getElementById(id);
$("status").append(...STATUSES.map((s) => el("option", { value: s }, t(`status.${s}`))));
const mayAssign = (me()?.roles ?? []).some((r) => DISPATCHERS.includes(r));
let agencies = null; // code → name, read once when a request is first opened

async function agencyNames() {
  if (!agencies) {
    const page = await api("/api/v1/agencies?limit=1000");
    agencies = new Map(page.items.map((a) => [a.code, a.name]));
  }
  return agencies;
}

function failed(input, err) {
  input.setCustomValidity(err.message);
  input.reportValidity();
  input.addEventListener("input", () => input.setCustomValidity(""), { once: true });
}

function row(r) {
  const move = el("select", {}, ...STATUSES.filter((s) => s !== r.status).map((s) => el("option", { value: s }, t(`status.${s}`))));
  const note = el("input", { maxlength: "500", placeholder: t("queue.note") });
  const go = el("button", { type: "button", onclick: async () => {
    try {
      await api(`/api/v1/feedback/${r.id}/status`, { method: "POST", body: { status: move.value, note: note.value } });
      await load();
    } catch (err) {
      failed(note, err);
    }
  } }, t("queue.move"));
  const open = el("button", { type: "button", class: "open", "aria-expanded": "false", onclick: () => toggle(r.id, tr, open) }, t("queue.details"));
  const tr = el("tr", { "data-id": String(r.id), "data-status": r.status, "data-agency": r.agency_code ?? "", class: r.overdue ? "overdue" : "" },
    el("td", {}, `#${r.id}`, el("br"), open), el("td", {}, t(`status.${r.status}`)), el("td", {}, r.service_name),
    el("td", {}, r.description || ""), el("td", {}, when(r.requested_at)), el("td", {}, move, note, go));
  return tr;
}

async function toggle(id, tr, button) {
  const next = tr.nextElementSibling;
  if (next?.classList.contains("details")) {
    next.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  button.setAttribute("aria-expanded", "true");
  const cell = el("td", { colspan: "6" });
  tr.after(el("tr", { class: "details", "data-for": String(id) }, cell));
  await details(id, cell);
}

function line(n, names) {
  const what = n.kind === "status" ? `${n.status_from ? `${t(`status.${n.status_from}`)} ` : ""}→ ${t(`status.${n.status_to}`)}`
    : n.kind === "assign" ? `${names.get(n.agency_from) ?? n.agency_from ?? "–"} → ${names.get(n.agency_to) ?? n.agency_to}`
      : "";
  return el("li", { "data-kind": n.kind, class: n.public ? "public" : "internal" },
    el("time", {}, when(n.at)), el("b", {}, ` ${t(`note.${n.kind}`)} `), what ? `${what} ` : "",
    n.text ? el("q", {}, n.text) : "", el("small", {}, ` · ${n.actor}${n.public ? ` · ${t("note.public")}` : ""}`));
}

/** A request's agency, assignment form, timeline and note form, drawn into ``cell``. */
async function details(id, cell) {
  const [r, names] = await Promise.all([api(`/api/v1/feedback/${id}`), agencyNames()]);
  const parts = [el("p", {}, `${t("queue.agency")}: `, el("b", { class: "agency" }, names.get(r.agency_code) ?? r.agency_code ?? "–"))];
  if (mayAssign) {
    const to = el("select", { name: "agency" }, ...[...names].filter(([code]) => code !== r.agency_code)
      .map(([code, name]) => el("option", { value: code }, name)));
    const why = el("input", { name: "why", maxlength: "500", placeholder: t("queue.note") });
    parts.push(el("form", { class: "assign", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(`/api/v1/feedback/${id}/assign`, { method: "POST", body: { agency_code: to.value, note: why.value } });
        await reopen(id);
      } catch (err) {
        failed(why, err);
      }
    } }, el("label", {}, `${t("queue.assign")} `, to), why, el("button", { type: "submit" }, t("queue.assign_go"))));
  }
  parts.push(el("ol", { class: "timeline" }, ...r.timeline.map((n) => line(n, names))));
  const text = el("input", { name: "text", maxlength: "2000", required: "", placeholder: t("queue.note_text") });
  const shown = el("input", { type: "checkbox", name: "public" });
  parts.push(el("form", { class: "note", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api(`/api/v1/feedback/${id}/notes`, { method: "POST", body: { text: text.value, public: shown.checked } });
      await reopen(id);
    } catch (err) {
      failed(text, err);
    }
  } }, text, el("label", {}, shown, ` ${t("note.public")}`), el("button", { type: "submit" }, t("queue.add_note"))));
  cell.replaceChildren(...parts);
  cell.parentElement.dataset.ready = "1";
}

/** Reload the queue and open the request again, its new state and timeline shown. */
async function reopen(id) {
  await load(id);
}

async function load(openId = null) {
  const params = new URLSearchParams({ limit: "50" });
  if ($("status").value) params.set("status", $("status").value);
  if ($("q").value.trim()) params.set("q", $("q").value.trim());
  const id = new URLSearchParams(location.search).get("id");
  const page = await api(`/api/v1/feedback?${params}`);
  let items = page.items;
  if (id && !params.has("q")) items = [await api(`/api/v1/feedback/${id}`), ...items.filter((r) => String(r.id) !== id)];
  const opened = openId ?? (id && !document.body.dataset.ready ? Number(id) : null);
  if (openId !== null && !items.some((r) => r.id === openId)) items = [await api(`/api/v1/feedback/${openId}`), ...items];
  document.querySelector("#queue tbody").replaceChildren(...items.map(row));
  if (opened !== null) {
    const tr = document.querySelector(`#queue tr[data-id='${opened}']`);
    if (tr) await toggle(opened, tr, tr.querySelector("button.open"));
  }
  document.body.dataset.ready = "1";
}

$("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
await load();
