// An indicator's page: trend against its target, and the districts ranked, with lights.
// Reads /api/v1/indicators (catalogue, trend, rank), which check role and scope.
import { api, el, header, lang, localDay, num, pct, requireLogin, t, translate } from "/ui/static/js/common.js";

requireLogin();
translate();
header("indicators");
const $ = (id) => document.getElementById(id);
const chart = echarts.init($("trend"), "dark");
addEventListener("resize", () => chart.resize());

function periodNow(kind) {
  const [y, m] = localDay().split("-").map(Number);
  if (kind === "year") return `${y}`;
  if (kind === "month") return `${y}-${String(m).padStart(2, "0")}`;
  return `${y}-Q${Math.floor((m + 2) / 3)}`;
}

const catalogue = await api("/api/v1/indicators");
$("indicator").replaceChildren(...catalogue.map((i) => el("option", { value: i.code }, `${i.code} — ${lang() === "vi" ? i.name : i.name_en}`)));
const wanted = new URLSearchParams(location.search).get("code");
if (wanted) $("indicator").value = wanted;

async function show() {
  const ind = catalogue.find((i) => i.code === $("indicator").value);
  const trend = await api(`/api/v1/indicators/${ind.code}/trend?period=${periodNow(ind.period)}&count=8`);
  const latest = [...trend].reverse().find((r) => r.value !== null) || trend[trend.length - 1];
  $("target").textContent = latest.target === null ? "" : `${t("ind.target")}: ${num(latest.target, 1)} ${ind.unit}`;
  chart.setOption({
    backgroundColor: "transparent", tooltip: { trigger: "axis" },
    grid: { left: 50, right: 10, top: 20, bottom: 30 },
    xAxis: { type: "category", data: trend.map((r) => r.period) }, yAxis: { type: "value" },
    series: [
      { name: t("ind.value"), type: "bar", data: trend.map((r) => r.value) },
      { name: t("ind.target"), type: "line", data: trend.map((r) => r.target), lineStyle: { type: "dashed" } },
    ],
  }, true);
  const rows = ind.level === "province" ? [] : await api(`/api/v1/indicators/${ind.code}/rank?period=${latest.period}`);
  $("rank").querySelector("tbody").replaceChildren(...rows.map((r) => el("tr", { class: `light-${r.light ?? "none"}`, "data-place": r.place_code },
    el("td", {}, r.place_name), el("td", {}, num(r.value, 1)), el("td", {}, num(r.target, 1)), el("td", {}, pct(r.attainment)))));
  document.body.dataset.ready = ind.code;
}

$("indicator").addEventListener("change", show);
await show();
