// The citizens' page: pick a category (Open311 service list), pin the place on the map, send;
// then track the report with the code the receipt gives. No login.
import { api, ApiError, el, lang, mapStyle, switchLanguage, t, translate, when } from "/ui/static/js/common.js";

translate();
document.querySelector(".lang").addEventListener("click", switchLanguage);
const $ = (id) => document.getElementById(id);

const services = await api(`/open311/v2/services.json?lang=${lang()}`, { auth: false });
$("service").replaceChildren(...services.map((s) => el("option", { value: s.service_code }, s.service_name)));

const map = new maplibregl.Map({
  container: "pin-map", style: mapStyle(document.body.dataset.basemap, "#e2e8f0"),
  center: [105.34, 20.8], zoom: 8, attributionControl: false,
});
let pin = null;
map.on("load", async () => {
  const units = await api("/api/v1/places?level=district&limit=100", { auth: false });
  const features = units.items.filter((p) => p.bbox).map((p) => ({
    type: "Feature", properties: { name: p.name },
    geometry: { type: "Polygon", coordinates: [[[p.bbox[0], p.bbox[1]], [p.bbox[2], p.bbox[1]], [p.bbox[2], p.bbox[3]], [p.bbox[0], p.bbox[3]], [p.bbox[0], p.bbox[1]]]] },
  }));
  map.addSource("units", { type: "geojson", data: { type: "FeatureCollection", features } });
  map.addLayer({ id: "units", type: "line", source: "units", paint: { "line-color": "#2563eb", "line-width": 1 } });
  const all = features.flatMap((f) => f.geometry.coordinates[0]);
  if (all.length) {
    const xs = all.map((c) => c[0]), ys = all.map((c) => c[1]);
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 10, duration: 0 });
  }
  document.body.dataset.ready = "1";
});
map.on("click", (e) => {
  pin = e.lngLat;
  if (!map.getSource("pin")) {
    map.addSource("pin", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "pin", type: "circle", source: "pin", paint: { "circle-radius": 8, "circle-color": "#dc2626", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
  }
  map.getSource("pin").setData({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [pin.lng, pin.lat] } });
});

async function uploadPhoto(file) {
  const form = new FormData();
  form.append("file", file);
  const response = await fetch("/api/v1/web/citizen/photos", { method: "POST", body: form });
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

$("report").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!pin) { $("error").textContent = t("citizen.needpin"); return; }
  const f = new FormData(e.target);
  const body = { service_code: f.get("service_code"), description: f.get("description"), lat: pin.lat, lon: pin.lng };
  for (const k of ["first_name", "phone"]) if (f.get(k)) body[k] = f.get(k);
  try {
    const photo = $("photo").files[0];
    if (photo) body.media_url = (await uploadPhoto(photo)).media_url;
    const r = await api("/api/v1/web/citizen/feedback", { method: "POST", body, auth: false });
    $("error").textContent = "";
    const receipt = $("receipt");
    receipt.hidden = false;
    receipt.className = "receipt";
    receipt.dataset.id = r.id;
    receipt.dataset.token = r.token;
    if (body.media_url) receipt.dataset.media = body.media_url;
    receipt.replaceChildren(`${t("citizen.sent")} `, el("code", {}, r.token), ` (#${r.id})`);
    $("track-token").value = r.token;
  } catch (err) {
    $("error").textContent = err.body?.errors?.map((x) => `${x.field}: ${x.message}`).join("; ") || err.message;
  }
});

$("track").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("tracked");
  try {
    const r = await api(`/api/v1/feedback/track/${encodeURIComponent($("track-token").value.trim())}`, { auth: false });
    out.dataset.status = r.status;
    out.replaceChildren(
      el("p", {}, el("b", {}, `#${r.id} ${r.service_name}: `), t(`status.${r.status}`)),
      el("ul", {}, ...r.notes.map((n) => el("li", {}, `${when(n.at)} — ${n.text}`))));
  } catch (err) {
    out.textContent = err.message;
  }
});

$("dossier").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("dossier-status");
  try {
    const d = await api(`/api/v1/web/citizen/dossiers/${encodeURIComponent($("dossier-code").value.trim())}`, { auth: false });
    out.dataset.status = d.status;
    out.replaceChildren(
      el("p", {}, el("b", {}, `${d.code}: `), t(`dstatus.${d.status}`)),
      el("p", {}, lang() === "vi" ? d.procedure_name : d.procedure_name_en),
      el("p", {}, `${t("dos.received")}: ${when(d.received_at)} · ${t("dos.due")}: ${when(d.due_at)}`));
  } catch (err) {
    out.textContent = err.message;
  }
});
