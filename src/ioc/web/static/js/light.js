// A streetlight's page: its state, switch/dim buttons that send real commands through
// /api/v1/streetlights/commands and follow the device's acknowledgement, and its last 24 hours
// of power and light level from the NGSI-LD temporal API.
import { api, header, num, requireLogin, t, translate, TZ } from "/ui/static/js/common.js";

requireLogin();
translate();
header("ops");

const id = document.querySelector("main.device").dataset.light;
const $ = (sel) => document.getElementById(sel);
const chart = echarts.init($("history"), "dark");
addEventListener("resize", () => chart.resize());
const HISTORY = ["powerConsumption", "illuminanceLevel"]; // illuminanceLevel: the dimming, 0–1

/** Numeric [time, value] pairs of one attribute in a temporalValues answer. */
function series(entity, attr, scale = 1) {
  const values = entity[attr]?.values ?? [];
  return values.filter(([v]) => typeof v === "number").map(([v, at]) => [at, Math.round(v * scale * 100) / 100])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

async function history() {
  const since = new Date(Date.now() - 86400000).toISOString();
  const params = new URLSearchParams({ attrs: HISTORY.join(","), timerel: "after", timeAt: since, lastN: "500", options: "temporalValues" });
  const entity = await api(`/ngsi-ld/v1/temporal/entities/${encodeURIComponent(id)}?${params}`);
  const power = series(entity, "powerConsumption");
  const level = series(entity, "illuminanceLevel", 100);
  const time = new Intl.DateTimeFormat("vi-VN", { timeZone: TZ, hour: "2-digit", minute: "2-digit" });
  chart.setOption({
    backgroundColor: "transparent",
    animation: false,
    grid: { left: 50, right: 50, top: 30, bottom: 28 },
    tooltip: { trigger: "axis" },
    legend: { top: 0, textStyle: { color: "#cbd5e1" } },
    xAxis: { type: "time", min: Date.parse(since), max: Date.now() + 900000, axisLabel: { formatter: (v) => time.format(new Date(v)) } },
    yAxis: [{ type: "value", name: "W" }, { type: "value", name: "%", min: 0, max: 100 }],
    series: [
      { name: t("light.powerw"), type: "line", step: "end", showSymbol: power.length < 30, symbolSize: 6, data: power },
      { name: t("light.level"), type: "line", yAxisIndex: 1, step: "end", showSymbol: level.length < 30, symbolSize: 6, data: level },
    ],
  }, true);
  $("history").dataset.points = String(power.length);
  $("history").dataset.levels = String(level.length);
}

async function show() {
  const s = await api(`/api/v1/web/lights/${encodeURIComponent(id)}`);
  $("light-name").textContent = s.name;
  $("power").textContent = s.powerState ?? "–";
  $("level").textContent = s.illuminanceLevel === null ? "–" : num(s.illuminanceLevel, 2);
  $("status").textContent = s.status ?? "–";
  $("answer").textContent = [s.dim_info, s.switch_info].filter(Boolean).join(" · ") || "–";
  return s;
}

async function send(action, value) {
  $("progress").textContent = t("light.sent");
  const op = await api("/api/v1/streetlights/commands", {
    method: "POST", body: { target: { light: id }, action, value },
  });
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await api(`/api/v1/streetlights/commands/${op.id}`);
    if (!now.status.PENDING && !now.status.DELIVERED) {
      $("progress").textContent = `${t("light.answer")}: ${Object.keys(now.status).join(", ")}`;
      break;
    }
  }
  await Promise.all([show(), history()]);
}

$("dim-value").addEventListener("input", (e) => { $("dim-out").textContent = e.target.value; });
$("on").addEventListener("click", () => send("switch", "on"));
$("off").addEventListener("click", () => send("switch", "off"));
$("dim").addEventListener("click", () => send("dim", Number($("dim-value").value)));
await Promise.all([show(), history()]);
document.body.dataset.ready = "1";
