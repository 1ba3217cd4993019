// The leaders' phone brief: today's numbers against yesterday's, the indicators that are red,
// and the overdue reports. Every number comes from the JSON APIs, in the caller's scope.
import { api, day, el, header, lang, localDay, num, requireLogin, t, translate, when } from "/ui/static/js/common.js";

requireLogin();
translate();
header("brief");
const $ = (id) => document.getElementById(id);
$("today").textContent = day(new Date().toISOString());

function card(label, value, shown, before, light = "none", since = "brief.yesterday", digits = 0) {
  const delta = before === null || before === undefined ? "" : `${value - before >= 0 ? "+" : ""}${num(value - before, digits)} ${t(since)}`;
  return el("div", { class: `card ${light}` }, el("span", {}, label), el("strong", {}, shown), el("span", { class: "delta" }, delta));
}

const [days, brief, overdue, alerts] = await Promise.all([
  api(`/api/v1/web/feedback/measures?by=period&period=day&from=${localDay(1)}`),
  api("/api/v1/indicators/brief").catch(() => null),
  api("/api/v1/feedback?overdue=true&sort=due&limit=10"),
  api("/api/v1/alerts?status=open&status=acknowledged&severity=critical&limit=5").catch(() => null),
]);
const [yesterday, today] = [days.groups[0] || {}, days.groups[days.groups.length - 1] || {}];
const cards = [
  card(t("brief.received"), today.received ?? 0, num(today.received ?? 0), yesterday.received),
  card(t("brief.settled"), today.settled ?? 0, num(today.settled ?? 0), yesterday.settled),
  card(t("kpi.overdue"), overdue.total, num(overdue.total), null, overdue.total ? "red" : "green"),
];
if (alerts) {
  const tile = card(t("brief.alerts"), alerts.total, num(alerts.total), null, alerts.total ? "red" : "green");
  tile.dataset.kpi = "alerts";
  cards.push(tile);
  $("alerts").replaceChildren(...(alerts.items.length
    ? alerts.items.map((a) => el("li", { "data-alert": String(a.id) }, `${lang() === "en" ? a.title_en : a.title} — ${when(a.raised_at)}`))
    : [el("li", {}, t("brief.no_alerts"))]));
}
if (brief) {
  for (const ind of brief.indicators.filter((i) => i.value !== null && i.target).slice(0, 5)) {
    cards.push(card(ind.name, ind.value, `${num(ind.value, 1)} ${ind.unit}`, ind.previous, ind.light || "none", "brief.previous", 1));
  }
  const reds = brief.indicators.filter((i) => i.light === "red");
  $("red").replaceChildren(...(reds.length ? reds.map((i) => el("li", {}, `${i.name}: ${num(i.value, 1)} / ${num(i.target, 1)} ${i.unit}${i.weakest ? ` — ${i.weakest}` : ""}`))
    : [el("li", {}, t("brief.none"))]));
}
cards[0].dataset.kpi = "received";
cards[2].dataset.kpi = "overdue";
$("cards").replaceChildren(...cards);
$("overdue").replaceChildren(...overdue.items.map((r) => el("li", {}, `#${r.id} ${r.service_name} — ${when(r.expected_at)}`)));
document.body.dataset.ready = "1";
