// Dossier monitoring per agency: on-time % over the last 90 days and the late dossiers of the
// chosen agency, from /api/v1/services (scope and role checked there).
import { api, el, header, localDay, num, pct, requireLogin, t, translate, when } from "/ui/static/js/common.js";

requireLogin();
translate();
header("dossiers");
const $ = (id) => document.getElementById(id);
const from = localDay(89), to = localDay();

async function late(agency, name) {
  $("late-agency").textContent = name;
  const page = await api(`/api/v1/services/dossiers?agency_code=${encodeURIComponent(agency)}&on_time=false&from=${from}&to=${to}&limit=50`);
  $("late").querySelector("tbody").replaceChildren(...page.items.map((d) => el("tr", { "data-code": d.code },
    el("td", {}, d.code), el("td", {}, t(`dstatus.${d.status}`)), el("td", {}, when(d.received_at)), el("td", {}, when(d.due_at)))));
}

const m = await api(`/api/v1/services/measures?by=agency&from=${from}&to=${to}`);
const groups = m.groups.filter((g) => g.key).sort((a, b) => (a.on_time_pct ?? 101) - (b.on_time_pct ?? 101));
$("agencies").querySelector("tbody").replaceChildren(...groups.map((g) => el("tr", { "data-agency": g.key, onclick: () => late(g.key, g.name) },
  el("td", {}, g.name ?? g.key), el("td", {}, num(g.received)), el("td", {}, num(g.resolved)), el("td", {}, pct(g.on_time_pct)),
  el("td", {}, num(g.late)), el("td", {}, num(g.in_progress)))));
if (groups.length) await late(groups[0].key, groups[0].name ?? groups[0].key);
document.body.dataset.ready = "1";
