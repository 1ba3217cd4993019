// The operations map's further layers: cameras, sensors with their latest values, dossiers by
// place (on-time % from /api/v1/services/measures), active alerts (an operator acknowledges one
// from its popup) and every GIS collection /ogcapi lists, fetched for the current view (bbox)
// when switched on. Each is a checkbox in #layers.
import { api, el, lang, me, num, pct, t, when } from "/ui/static/js/common.js";

const empty = { type: "FeatureCollection", features: [] };
// Collections the screen already draws from its own scoped APIs.
const DRAWN = new Set(["admin-units", "feedback-reports", "streetlights", "cameras"]);
const PALETTE = ["#a78bfa", "#34d399", "#f472b6", "#38bdf8", "#fb923c", "#a3e635", "#e879f9", "#2dd4bf"];
export const GIS_LIMIT = 500;
const gis = new Map(); // collection id → { on, label, seq }

/** Layer ids per checkbox value, for the visibility switch (GIS ones are added as found). */
export const LAYERS = {
  units: ["units-fill", "units-line"],
  feedback: ["feedback-cluster", "feedback-point"],
  lights: ["lights-cluster", "lights-point"],
  cameras: ["cameras-point"],
  sensors: ["sensors-point"],
  dossiers: ["dossiers-fill"],
  alerts: ["alerts-point"],
};
export const CLICKABLE = ["cameras-point", "sensors-point", "alerts-point"];
const SEVERITY_COLOR = ["match", ["get", "severity"], "critical", "#dc2626", "warning", "#f59e0b", "#38bdf8"];
const ACTS = ["operator", "district_admin", "admin"];

export function addLayers(map) {
  for (const id of ["cameras", "sensors", "dossiers", "alerts"]) map.addSource(id, { type: "geojson", data: empty });
  map.addLayer({ id: "dossiers-fill", type: "fill", source: "dossiers", layout: { visibility: "none" },
    paint: { "fill-opacity": 0.4, "fill-color": ["case", ["==", ["typeof", ["get", "on_time_pct"]], "number"],
      ["step", ["get", "on_time_pct"], "#ef4444", 80, "#f59e0b", 95, "#22c55e"], "#475569"] } }, "units-line");
  map.addLayer({ id: "cameras-point", type: "circle", source: "cameras",
    paint: { "circle-radius": 6, "circle-color": "#0ea5e9", "circle-stroke-color": "#e0f2fe", "circle-stroke-width": 2 } });
  map.addLayer({ id: "sensors-point", type: "circle", source: "sensors",
    paint: { "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1,
      "circle-color": ["match", ["get", "kind"], "air", ["step", ["coalesce", ["get", "airQualityIndex"], 0], "#22c55e", 51, "#eab308", 101, "#f97316", 151, "#ef4444"],
        "water", "#22d3ee", ["case", ["==", ["get", "congested"], true], "#ef4444", "#c084fc"]] } });
  map.addLayer({ id: "alerts-point", type: "circle", source: "alerts",
    paint: { "circle-radius": ["match", ["get", "severity"], "critical", 11, "warning", 9, 7], "circle-color": SEVERITY_COLOR,
      "circle-opacity": ["match", ["get", "status"], "open", 0.95, 0.55], "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
  const hover = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
  map.on("mousemove", "dossiers-fill", (e) => {
    const p = e.features[0].properties;
    hover.setLngLat(e.lngLat).setDOMContent(el("div", { class: "dossier-tip" }, el("b", {}, p.name), el("br"),
      `${t("dos.received")}: ${num(p.received)} · ${t("dos.resolved")}: ${num(p.resolved)}`, el("br"),
      `${t("dos.on_time")}: ${pct(p.on_time_pct === "null" ? null : p.on_time_pct)} · ${t("dos.late")}: ${num(p.late)}`)).addTo(map);
  });
  map.on("mouseleave", "dossiers-fill", () => hover.remove());
}

/** Cameras, sensors, alerts and dossiers by place for the unit shown; a role that may not read one gets none. */
export async function loadPlace(map, units, query, from, to) {
  const by = units.place.level === "province" ? "district" : "commune";
  const [cams, sensors, dossiers, alerts] = await Promise.all([
    api(`/api/v1/web/cameras?${query}`).catch(() => empty),
    api(`/api/v1/web/sensors?${query}`).catch(() => empty),
    api(`/api/v1/services/measures?by=${by}&from=${from}&to=${to}`).catch(() => ({ groups: [] })),
    api(`/api/v1/web/alerts?${query}`).catch(() => empty),
  ]);
  map.getSource("cameras").setData(cams);
  map.getSource("sensors").setData(sensors);
  map.getSource("alerts").setData(alerts);
  document.body.dataset.alerts = alerts.features.map((f) => f.properties.id).join(",");
  const measured = new Map(dossiers.groups.map((g) => [g.key, g]));
  const shapes = units.features.filter((f) => !f.properties.self).map((f) => {
    const m = measured.get(f.properties.code) || { received: 0, resolved: 0, late: 0, on_time_pct: null };
    return { ...f, properties: { ...f.properties, received: m.received, resolved: m.resolved, late: m.late, on_time_pct: m.on_time_pct } };
  });
  map.getSource("dossiers").setData({ type: "FeatureCollection", features: shapes });
  return { cameras: cams.features.length, sensors: sensors.features.length, dossiers: shapes.length, alerts: alerts.features.length };
}

const SENSOR_FIELDS = {
  air: [["airQualityIndex", 0], ["airQualityLevel"], ["pm25", 1, "µg/m³"], ["pm10", 1, "µg/m³"], ["no2", 1, "µg/m³"], ["temperature", 1, "°C"]],
  water: [["height", 2, "m"], ["flow", 1, "m³/s"]],
  traffic: [["intensity", 0], ["occupancy", 2], ["averageVehicleSpeed", 1, "km/h"], ["congested"]],
};

function rows(pairs) {
  return el("table", { class: "props" }, ...pairs.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
}

function show(value, digits, unit) {
  if (value === undefined || value === null) return "–";
  if (typeof value === "boolean") return value ? "✓" : "–";
  if (typeof value === "number") return `${num(value, digits ?? (Number.isInteger(value) ? 0 : 2))}${unit ? ` ${unit}` : ""}`;
  return String(value);
}

/** A click on a camera, sensor or GIS feature opens its popup; true when it did. */
export function clickLayers(map, e) {
  const ids = [...CLICKABLE, ...[...gis.keys()].flatMap((id) => gisLayerIds(id))].filter((id) => map.getLayer(id));
  const hit = map.queryRenderedFeatures(e.point, { layers: ids })[0];
  if (!hit) return false;
  const p = hit.properties;
  const popup = new maplibregl.Popup({ maxWidth: "360px" }).setLngLat(e.lngLat);
  if (hit.layer.id === "cameras-point") {
    popup.setDOMContent(el("div", { "data-popup": "camera" }, el("b", {}, p.name), rows([
      [t("cam.usage"), p.usage ?? "–"], [t("dos.agency"), p.agency_code ?? "–"], [t("cam.type"), p.camera_type ?? "–"]])));
  } else if (hit.layer.id === "alerts-point") {
    popup.setDOMContent(alertBox(p));
  } else if (hit.layer.id === "sensors-point") {
    const fields = SENSOR_FIELDS[p.kind] || [];
    popup.setDOMContent(el("div", { "data-popup": "sensor" }, el("b", {}, `${t(`sensor.${p.kind}`)} · ${p.name}`),
      rows([...fields.map(([k, d, u]) => [t(`sensor.${k}`), show(p[k], d, u)]), [t("sensor.observed"), when(p.observed)]])));
  } else {
    const id = hit.layer.metadata.collection;
    const shown = Object.entries(p).filter(([k, v]) => k !== "fid" && v !== null && v !== "" && typeof v !== "object").slice(0, 14);
    const box = el("div", { "data-popup": `gis-${id}` }, el("b", {}, gis.get(id).title), rows(shown.map(([k, v]) => [k, show(v)])));
    popup.setDOMContent(box);
    if (id === "parcels" && p.fid) parcelHistory(p.fid, box);
  }
  popup.addTo(map);
  return true;
}

/** An alert's popup; operators (and district admins, admins) acknowledge an open one here. */
function alertBox(p) {
  const box = el("div", { "data-popup": "alert", "data-alert": String(p.id), "data-status": p.status },
    el("b", { class: `sev-${p.severity}` }, lang() === "en" ? p.title_en : p.title),
    rows([[t("alert.severity"), t(`sev.${p.severity}`)], [t("alert.status"), t(`astatus.${p.status}`)],
      [t("alert.raised"), when(p.raised_at)], [t("alert.last"), when(p.last_seen)], [t("alert.count"), num(p.count)],
      [t("alert.ack_by"), p.acknowledged_by && p.acknowledged_by !== "null" ? p.acknowledged_by : "–"]]));
  // The source's own page, where there is one: the request in the queue, the lamp's page.
  const link = p.source.startsWith("feedback:") ? `/ui/queue?id=${p.source.slice(9)}`
    : p.rule === "streetlight-fault" ? `/ui/light/${encodeURIComponent(p.source)}` : null;
  if (link) box.append(el("a", { href: link, class: "source" }, p.source.split(":").pop()));
  const roles = me()?.roles || [];
  if (p.status === "open" && roles.some((r) => ACTS.includes(r))) {
    const button = el("button", { type: "button", class: "ack" }, t("alert.ack"));
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const done = await api(`/api/v1/alerts/${p.id}/acknowledge`, { method: "POST", body: {} });
        box.dataset.status = done.status;
        button.replaceWith(el("span", { class: "acked" }, `${t("astatus.acknowledged")} · ${done.acknowledged_by}`));
      } catch (err) {
        button.disabled = false;
        button.title = err.message;
      }
    });
    box.append(button);
  }
  return box;
}

async function parcelHistory(key, box) {
  let changes;
  try {
    changes = await api(`/api/v1/gis/parcels/${encodeURIComponent(key)}/history`);
  } catch {
    return; // not authorised: the parcel's public details only
  }
  box.append(el("h4", {}, t("gis.history")), el("ol", { class: "history" }, ...changes.map((c) =>
    el("li", {}, `${when(c.at)} · ${c.change}${c.state.holder_name ? ` · ${c.state.holder_name}` : ""}${c.note ? ` · ${c.note}` : ""}`))));
}

function gisLayerIds(id) {
  return [`gis-${id}-fill`, `gis-${id}-line`, `gis-${id}-point`];
}

/** One checkbox per OGC API collection; a switched-on layer is fetched for the view. */
export async function initGis(map, fieldset) {
  let listed;
  try {
    listed = await api("/ogcapi/collections");
  } catch {
    return;
  }
  listed.collections.filter((c) => !DRAWN.has(c.id)).forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length];
    const source = `gis-${c.id}`;
    map.addSource(source, { type: "geojson", data: empty });
    const meta = { collection: c.id };
    const hidden = { visibility: "none" };
    map.addLayer({ id: `${source}-fill`, type: "fill", source, layout: hidden, metadata: meta,
      filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": color, "fill-opacity": 0.25 } }, "lights-cluster");
    map.addLayer({ id: `${source}-line`, type: "line", source, layout: hidden, metadata: meta,
      filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": color, "line-width": 1.5 } }, "lights-cluster");
    map.addLayer({ id: `${source}-point`, type: "circle", source, layout: hidden, metadata: meta,
      filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 4, "circle-color": color } }, "lights-cluster");
    LAYERS[`gis:${c.id}`] = gisLayerIds(c.id);
    const count = el("small", { class: "count" });
    const label = el("label", { "data-collection": c.id }, el("input", { type: "checkbox", value: `gis:${c.id}` }),
      el("span", { class: "swatch", style: `background:${color}` }), ` ${c.title} `, count);
    gis.set(c.id, { on: false, title: c.title, label, count, seq: 0 });
    fieldset.append(label);
  });
  fieldset.dataset.gis = String(gis.size);
  map.on("moveend", () => { for (const [id, g] of gis) if (g.on) fetchGis(map, id); });
}

/** Switch a GIS collection on (fetch its features in the view) or off; true for GIS values. */
export function toggleGis(map, value, on) {
  if (!value.startsWith("gis:")) return false;
  const id = value.slice(4);
  gis.get(id).on = on;
  if (on) fetchGis(map, id);
  return true;
}

async function fetchGis(map, id) {
  const g = gis.get(id);
  const seq = ++g.seq;
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const page = await api(`/ogcapi/collections/${encodeURIComponent(id)}/items?bbox=${bbox}&limit=${GIS_LIMIT}`);
  if (seq !== g.seq) return; // a newer view's answer is on its way
  for (const f of page.features) f.properties = { ...f.properties, fid: f.id };
  map.getSource(`gis-${id}`).setData(page);
  g.count.textContent = page.numberMatched > page.numberReturned ? `${num(page.numberReturned)}/${num(page.numberMatched)}` : num(page.numberReturned);
  g.label.dataset.count = String(page.numberReturned);
}
