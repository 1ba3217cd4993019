// The operations-room screen: map of the units in scope, KPI tiles with targets and lights,
// ranking of the units below, trend chart, live feed. Clicking a unit filters all of it.
import {
  api, el, header, lang, liveEvents, localDay, mapStyle, num, pct, requireLogin, t, translate, when,
} from "/ui/static/js/common.js";
import { addLayers, CLICKABLE, clickLayers, initGis, LAYERS, loadPlace, toggleGis } from "/ui/static/js/ops_layers.js";

requireLogin();
translate();
header("ops");

const DAYS = 30;
const state = { place: null, level: null, targets: {} };
const from = localDay(DAYS - 1);
const chart = echarts.init(document.getElementById("chart"), "dark", { renderer: "canvas" });
addEventListener("resize", () => chart.resize());

const map = new maplibregl.Map({
  container: "map",
  style: mapStyle(document.body.dataset.basemap),
  center: [105.34, 20.8],
  zoom: 8,
  attributionControl: false,
});
window.iocMap = map; // the browser tests project places onto the canvas with it

const empty = { type: "FeatureCollection", features: [] };
// The KPI targets come from the indicator catalogue, fetched alongside the first place's data.
const targetsReady = api("/api/v1/indicators").then((list) => {
  for (const ind of list) state.targets[ind.code] = ind.targets;
});
const mapReady = new Promise((resolve) => map.on("load", resolve));

map.on("load", () => {
  map.addSource("units", { type: "geojson", data: empty });
  map.addSource("feedback", { type: "geojson", data: empty, cluster: true, clusterRadius: 40, clusterMaxZoom: 14 });
  map.addSource("lights", { type: "geojson", data: empty, cluster: true, clusterRadius: 30, clusterMaxZoom: 15 });
  map.addLayer({ id: "units-fill", type: "fill", source: "units", filter: ["!=", ["get", "self"], true],
    paint: { "fill-color": "#2563eb", "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 0.35, 0.12] } });
  map.addLayer({ id: "units-line", type: "line", source: "units",
    paint: { "line-color": ["case", ["==", ["get", "self"], true], "#f59e0b", "#60a5fa"], "line-width": ["case", ["==", ["get", "self"], true], 2.5, 1] } });
  map.addLayer({ id: "lights-cluster", type: "circle", source: "lights", filter: ["has", "point_count"],
    paint: { "circle-color": "#facc15", "circle-opacity": 0.55, "circle-radius": ["step", ["get", "point_count"], 8, 50, 12, 200, 18] } });
  map.addLayer({ id: "lights-point", type: "circle", source: "lights", filter: ["!", ["has", "point_count"]],
    paint: { "circle-radius": 4, "circle-color": ["match", ["get", "powerState"], "on", "#fde047", "#64748b"] } });
  map.addLayer({ id: "feedback-cluster", type: "circle", source: "feedback", filter: ["has", "point_count"],
    paint: { "circle-color": "#ef4444", "circle-opacity": 0.7, "circle-stroke-color": "#fff", "circle-stroke-width": 1,
      "circle-radius": ["step", ["get", "point_count"], 10, 20, 15, 100, 22] } });
  map.addLayer({ id: "feedback-point", type: "circle", source: "feedback", filter: ["!", ["has", "point_count"]],
    paint: { "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1,
      "circle-color": ["match", ["get", "status"], "received", "#ef4444", "assigned", "#f97316", "in_progress", "#eab308", "#22c55e"] } });
  addLayers(map);

  map.on("click", (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: ["units-fill", "lights-point", "feedback-point", "feedback-cluster", "lights-cluster"] });
    if (hits.some((f) => f.layer.id.endsWith("-cluster"))) return; // the cluster zooms in instead
    if (clickLayers(map, e)) return;
    const light = hits.find((f) => f.layer.id === "lights-point");
    if (light) return openLight(light, e.lngLat);
    const report = hits.find((f) => f.layer.id === "feedback-point");
    if (report) return openReport(report, e.lngLat);
    const units = hits.filter((f) => f.layer.id === "units-fill");
    if (!units.length) return;
    // Boxes of neighbours overlap: the smallest unit under the pointer is the one meant.
    units.sort((a, b) => area(a) - area(b));
    go(units[0].properties.code);
  });
  for (const id of ["units-fill", "lights-point", "feedback-point", "feedback-cluster", "lights-cluster", ...CLICKABLE]) {
    map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  }
  for (const id of ["feedback", "lights"]) {
    map.on("click", `${id}-cluster`, async (e) => {
      const [cluster] = e.features; // MapLibre drops e.features once the listener returns
      const zoom = await map.getSource(id).getClusterExpansionZoom(cluster.properties.cluster_id);
      map.easeTo({ center: cluster.geometry.coordinates, zoom });
    });
  }
});

/** A unit's area in square degrees (outer rings): boxes and imported (Multi)Polygon boundaries. */
function area(f) {
  const polygons = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [f.geometry.coordinates];
  let total = 0;
  for (const [ring] of polygons) {
    let a = 0;
    for (let i = 1; i < ring.length; i++) a += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
    total += Math.abs(a) / 2;
  }
  return total;
}

function openLight(f, at) {
  const p = f.properties;
  const link = el("a", { href: `/ui/light/${encodeURIComponent(p.id)}` }, p.name);
  new maplibregl.Popup().setLngLat(at).setDOMContent(
    el("div", {}, link, el("br"), `${t("light.power")}: ${p.powerState ?? "–"}`)).addTo(map);
}

function openReport(f, at) {
  const p = f.properties;
  new maplibregl.Popup().setLngLat(at).setDOMContent(
    el("div", {}, el("a", { href: `/ui/queue?id=${p.id}` }, `#${p.id}`), ` ${t(`status.${p.status}`)}`, el("br"), p.description || "")).addTo(map);
}

document.getElementById("layers").addEventListener("change", (e) => {
  const { value, checked } = e.target;
  toggleGis(map, value, checked);
  for (const id of LAYERS[value]) map.setLayoutProperty(id, "visibility", checked ? "visible" : "none");
});
const gisReady = mapReady.then(() => initGis(map, document.getElementById("gis-layers")));

// ---------------------------------------------------------------- data for the chosen place

function q(extra = {}) {
  const params = new URLSearchParams(extra);
  if (state.place) params.set("place", state.place);
  return params.toString();
}

function targetOf(code) {
  const targets = state.targets[code] || {};
  const year = Number(localDay().slice(0, 4));
  const years = Object.keys(targets).map(Number).filter((y) => y <= year).sort();
  return years.length ? targets[years[years.length - 1]] : null;
}

function light(value, target) {
  if (value === null || value === undefined || !target) return "none";
  const attainment = (value / target) * 100;
  return attainment >= 100 ? "green" : attainment >= 90 ? "amber" : "red";
}

function tile(key, value, shown, target) {
  const lamp = light(value, target);
  return el("div", { class: `tile ${lamp}`, "data-kpi": key, "data-light": lamp },
    el("span", { class: "label" }, t(`kpi.${key}`)),
    el("strong", { class: "value" }, shown),
    el("span", { class: "target" }, target ? `${t("kpi.target")} ${pct(target)}` : "\u00a0"));
}

function showTiles(m, lights) {
  const total = m.total;
  const tiles = [
    tile("received", null, num(total.received)),
    tile("settled", total.settled_pct, pct(total.settled_pct), targetOf("PAKN-XULY")),
    tile("on_time", total.on_time_pct, pct(total.on_time_pct)),
    tile("satisfaction", total.satisfaction_pct, pct(total.satisfaction_pct), targetOf("PAKN-HAILONG")),
    tile("overdue", null, num(total.overdue_open)),
  ];
  if (lights && lights.features.length) {
    const on = lights.features.filter((f) => f.properties.powerState === "on").length;
    tiles.push(tile("lights", null, `${num(on)} / ${num(lights.features.length)}`));
  }
  document.getElementById("tiles").replaceChildren(...tiles);
  chart.setOption({
    backgroundColor: "transparent",
    grid: { left: 40, right: 10, top: 28, bottom: 24 },
    tooltip: { trigger: "axis" },
    legend: { top: 0, right: 0, data: [t("col.received"), t("col.settled")], textStyle: { color: "#cbd5e1" } },
    xAxis: { type: "category", data: m.groups.map((g) => g.key.slice(5)) },
    yAxis: { type: "value" },
    series: [
      { name: t("col.received"), type: "line", smooth: true, data: m.groups.map((g) => g.received) },
      { name: t("col.settled"), type: "bar", data: m.groups.map((g) => g.settled) },
    ],
  }, true);
}

function showRank(by, m) {
  document.getElementById("rank-title").textContent = t(`rank.${by}`);
  const rows = m.groups.filter((g) => g.key).map((g) =>
    el("tr", { "data-place": g.key, onclick: () => by === "district" || state.level === "district" ? go(g.key) : null },
      el("td", {}, g.name), el("td", {}, num(g.received)), el("td", {}, pct(g.settled_pct)), el("td", {}, num(g.overdue_open))));
  document.querySelector("#rank tbody").replaceChildren(...rows);
}

function showUnits(units) {
  const crumbs = units.trail.flatMap((c, i) => [
    i ? el("span", { class: "sep" }, "›") : "",
    el("a", { href: "#", "data-place": c.code, onclick: (e) => { e.preventDefault(); go(c.code); } }, c.name),
  ]);
  document.getElementById("crumbs").replaceChildren(...crumbs);
  map.getSource("units").setData(units);
  if (units.bbox) map.fitBounds([[units.bbox[0], units.bbox[1]], [units.bbox[2], units.bbox[3]]], { padding: 20, duration: 0 });
}

/** Everything for the chosen place, fetched at once; the lights are optional (not every role). */
async function load({ fit = true } = {}) {
  const units = await api(`/api/v1/web/units?${state.place ? `parent=${state.place}` : ""}`);
  state.place = units.place.code;
  state.level = units.place.level;
  const by = state.level === "province" ? "district" : "commune";
  const lights = api(`/api/v1/web/lights?${q()}`).catch(() => null); // the slowest: not awaited first
  const query = q();
  const others = mapReady.then(() => loadPlace(map, units, query, from, localDay()));
  const [points, days, ranked] = await Promise.all([
    api(`/api/v1/web/feedback/points?${q()}`),
    api(`/api/v1/web/feedback/measures?${q({ by: "period", period: "day", from })}`),
    api(`/api/v1/web/feedback/measures?${q({ by, from })}`),
    mapReady,
    targetsReady,
  ]);
  if (fit) showUnits(units);
  map.getSource("feedback").setData(points);
  showTiles(days, null);
  showRank(by, ranked);
  document.body.dataset.place = state.place;
  const place = state.place;
  lights.then((found) => {
    if (state.place !== place) return; // the user has moved on meanwhile
    map.getSource("lights").setData(found || empty);
    showTiles(days, found);
    document.body.dataset.lights = place;
  });
  others.then((n) => {
    if (state.place !== place) return;
    document.body.dataset.layers = place;
    document.body.dataset.sensors = String(n.sensors);
  });
  gisReady.then(() => { document.body.dataset.gis = "1"; });
}

async function go(code) {
  state.place = code;
  await load();
  document.body.dataset.ready = state.place;
}

// ---------------------------------------------------------------- live feed

let refresh = null;
function onEvent(ev) {
  const list = document.getElementById("feed");
  list.querySelector(".empty")?.remove();
  const label = t(`ev.${ev.type}`) === `ev.${ev.type}` ? ev.type : t(`ev.${ev.type}`);
  const what = ev.type.startsWith("feedback.") ? `#${ev.data.id} ${ev.data.service_code ?? ""} ${ev.data.status ? t(`status.${ev.data.status}`) : ""}`
    : ev.type.startsWith("alert.") ? (lang() === "en" ? ev.data.title_en : ev.data.title) ?? ev.subject
    : ev.subject ?? "";
  const severity = ev.type.startsWith("alert.") ? ` sev-${ev.data.severity}` : "";
  list.prepend(el("li", { class: ev.type.replace(/\./g, "-") + severity, "data-type": ev.type, "data-subject": ev.subject ?? "" },
    el("time", {}, when(ev.time)), el("b", {}, label), ` ${what}`));
  while (list.children.length > 50) list.lastElementChild.remove();
  clearTimeout(refresh);
  refresh = setTimeout(() => load({ fit: false }), 2000);
}

liveEvents(onEvent, (up) => document.getElementById("live").classList.toggle("up", up));

await go(null);
