// Shared by every page: the token, JSON calls, Vietnamese/English text, Vietnamese formats,
// and the live feed read from /api/v1/web/events with fetch (the token goes in a header).

const TOKEN = "ioc.token";
const ME = "ioc.me";
const LANG = "ioc.lang";
export const TZ = "Asia/Ho_Chi_Minh";

const TEXT = {
  vi: {
    "app.title": "Trung tâm điều hành thông minh",
    "login.title": "Đăng nhập", "login.user": "Tên đăng nhập", "login.password": "Mật khẩu",
    "login.submit": "Đăng nhập", "login.failed": "Sai tên đăng nhập hoặc mật khẩu",
    "logout": "Đăng xuất", "lang.switch": "English",
    "nav.indicators": "Chỉ tiêu", "nav.dossiers": "Hồ sơ",
    "ind.title": "Chỉ tiêu", "ind.trend": "Xu hướng", "ind.rank": "Xếp hạng huyện", "ind.value": "Giá trị",
    "ind.target": "Mục tiêu", "ind.attainment": "Đạt %",
    "dos.title": "Theo dõi hồ sơ theo cơ quan", "dos.agency": "Cơ quan", "dos.received": "Tiếp nhận",
    "dos.resolved": "Đã giải quyết", "dos.on_time": "Đúng hạn", "dos.late": "Trễ hạn", "dos.in_progress": "Đang xử lý",
    "dos.late_list": "Hồ sơ trễ hạn", "dos.code": "Mã hồ sơ", "dos.due": "Hạn",
    "citizen.dossier": "Tra cứu hồ sơ thủ tục hành chính", "citizen.dossier_code": "Mã hồ sơ",
    "dstatus.received": "Tiếp nhận", "dstatus.processing": "Đang xử lý", "dstatus.supplement_requested": "Yêu cầu bổ sung",
    "dstatus.completed": "Đã trả kết quả", "dstatus.rejected": "Từ chối", "dstatus.withdrawn": "Rút hồ sơ",
    "nav.ops": "Điều hành", "nav.brief": "Bản tin", "nav.queue": "Phản ánh", "nav.citizen": "Công dân",
    "kpi.received": "Phản ánh nhận (30 ngày)", "kpi.settled": "Đã xử lý",
    "kpi.on_time": "Đúng hạn", "kpi.satisfaction": "Hài lòng", "kpi.overdue": "Quá hạn đang mở",
    "kpi.lights": "Đèn đang sáng", "kpi.target": "Mục tiêu",
    "layers": "Lớp bản đồ", "layer.units": "Đơn vị hành chính", "layer.feedback": "Phản ánh đang mở",
    "layer.lights": "Đèn đường",
    "layer.cameras": "Camera", "layer.sensors": "Cảm biến (không khí, mực nước, giao thông)",
    "layer.dossiers": "Hồ sơ TTHC đúng hạn (30 ngày)", "layer.gis": "Lớp GIS",
    "cam.usage": "Mục đích", "cam.type": "Loại",
    "sensor.air": "Chất lượng không khí", "sensor.water": "Mực nước sông", "sensor.traffic": "Lưu lượng giao thông",
    "sensor.airQualityIndex": "AQI", "sensor.airQualityLevel": "Mức", "sensor.pm25": "PM2.5", "sensor.pm10": "PM10",
    "sensor.no2": "NO₂", "sensor.temperature": "Nhiệt độ", "sensor.height": "Mực nước", "sensor.flow": "Lưu lượng",
    "sensor.intensity": "Số xe", "sensor.occupancy": "Độ chiếm dụng", "sensor.averageVehicleSpeed": "Tốc độ TB",
    "sensor.congested": "Ùn tắc", "sensor.observed": "Thời điểm đo", "gis.history": "Lịch sử thửa đất",
    "trend": "Phản ánh theo ngày", "rank.district": "Theo huyện", "rank.commune": "Theo xã",
    "feed": "Sự kiện trực tiếp", "feed.empty": "Chờ sự kiện…",
    "col.place": "Đơn vị", "col.received": "Nhận", "col.settled": "Đã xử lý", "col.overdue": "Quá hạn",
    "ev.feedback.created": "Phản ánh mới", "ev.feedback.status": "Đổi trạng thái",
    "ev.feedback.assigned": "Chuyển xử lý", "ev.feedback.noted": "Ghi chú",
    "ev.feedback.escalated": "Chuyển cấp trên", "ev.feedback.rated": "Đánh giá",
    "ev.streetlight.command": "Lệnh đèn đường", "ev.streetlight.fault": "Sự cố đèn",
    "ev.streetlight.fault_cleared": "Hết sự cố đèn",
    "ev.alert.raised": "Cảnh báo mới", "ev.alert.escalated": "Cảnh báo tăng mức",
    "ev.alert.acknowledged": "Đã nhận cảnh báo", "ev.alert.resolved": "Hết cảnh báo",
    "layer.alerts": "Cảnh báo", "alert.severity": "Mức độ", "alert.status": "Trạng thái",
    "alert.raised": "Phát sinh", "alert.last": "Lần cuối", "alert.count": "Số lần", "alert.ack_by": "Người nhận",
    "alert.ack": "Nhận xử lý", "sev.info": "Thông tin", "sev.warning": "Cảnh báo", "sev.critical": "Khẩn cấp",
    "astatus.open": "Mới", "astatus.acknowledged": "Đã nhận", "astatus.resolved": "Đã xử lý",
    "brief.alerts": "Cảnh báo khẩn cấp đang mở", "brief.alert_list": "Cảnh báo khẩn cấp", "brief.no_alerts": "Không có cảnh báo khẩn cấp",
    "light.title": "Đèn đường", "light.state": "Trạng thái", "light.power": "Nguồn",
    "light.level": "Độ sáng", "light.on": "Bật", "light.off": "Tắt", "light.dim": "Điều chỉnh độ sáng",
    "light.history": "Lịch sử 24 giờ", "light.history_src": "(NGSI-LD temporal)", "light.powerw": "Công suất (W)",
    "light.send": "Gửi lệnh", "light.sent": "Đã gửi lệnh, chờ thiết bị…", "light.answer": "Thiết bị trả lời",
    "brief.title": "Bản tin lãnh đạo", "brief.today": "Hôm nay", "brief.yesterday": "so với hôm qua",
    "brief.red": "Cần chú ý", "brief.overdue": "Phản ánh quá hạn", "brief.indicators": "Chỉ tiêu",
    "brief.none": "Không có chỉ tiêu đỏ", "brief.previous": "so với kỳ trước",
    "brief.received": "Phản ánh nhận hôm nay", "brief.settled": "Đã xử lý hôm nay",
    "citizen.title": "Gửi phản ánh", "citizen.service": "Lĩnh vực", "citizen.description": "Nội dung",
    "citizen.pin": "Chạm vào bản đồ để đánh dấu vị trí", "citizen.name": "Họ tên", "citizen.phone": "Điện thoại",
    "citizen.photo": "Ảnh (không bắt buộc)", "citizen.submit": "Gửi", "citizen.sent": "Đã gửi. Mã theo dõi:", "citizen.track": "Theo dõi phản ánh",
    "citizen.token": "Mã theo dõi", "citizen.find": "Tra cứu", "citizen.needpin": "Hãy đánh dấu vị trí trên bản đồ",
    "queue.title": "Hàng đợi phản ánh", "queue.status": "Trạng thái", "queue.all": "Tất cả",
    "queue.search": "Tìm", "queue.move": "Chuyển", "queue.note": "Ghi chú",
    "queue.details": "Chi tiết", "queue.agency": "Đơn vị xử lý", "queue.assign": "Chuyển cho đơn vị",
    "queue.assign_go": "Chuyển đơn vị", "queue.note_text": "Ghi chú nội bộ cho đồng nghiệp", "queue.add_note": "Thêm ghi chú",
    "note.status": "Trạng thái", "note.assign": "Chuyển đơn vị", "note.note": "Ghi chú", "note.escalate": "Chuyển cấp trên",
    "note.public": "công khai",
    "status.received": "Tiếp nhận", "status.assigned": "Đã giao", "status.in_progress": "Đang xử lý",
    "status.resolved": "Đã giải quyết", "status.closed": "Đóng", "status.rejected": "Từ chối",
    "status.duplicate": "Trùng",
  },
  en: {
    "app.title": "Intelligent Operations Centre",
    "login.title": "Sign in", "login.user": "Username", "login.password": "Password",
    "login.submit": "Sign in", "login.failed": "Wrong username or password",
    "logout": "Sign out", "lang.switch": "Tiếng Việt",
    "nav.indicators": "Indicators", "nav.dossiers": "Dossiers",
    "ind.title": "Indicators", "ind.trend": "Trend", "ind.rank": "District ranking", "ind.value": "Value",
    "ind.target": "Target", "ind.attainment": "Attained %",
    "dos.title": "Dossiers by agency", "dos.agency": "Agency", "dos.received": "Received",
    "dos.resolved": "Resolved", "dos.on_time": "On time", "dos.late": "Late", "dos.in_progress": "In progress",
    "dos.late_list": "Late dossiers", "dos.code": "Code", "dos.due": "Due",
    "citizen.dossier": "Look up a public-service dossier", "citizen.dossier_code": "Dossier code",
    "dstatus.received": "Received", "dstatus.processing": "Processing", "dstatus.supplement_requested": "More papers needed",
    "dstatus.completed": "Completed", "dstatus.rejected": "Rejected", "dstatus.withdrawn": "Withdrawn",
    "nav.ops": "Operations", "nav.brief": "Brief", "nav.queue": "Feedback", "nav.citizen": "Citizens",
    "kpi.received": "Feedback received (30 days)", "kpi.settled": "Settled",
    "kpi.on_time": "On time", "kpi.satisfaction": "Satisfied", "kpi.overdue": "Open and overdue",
    "kpi.lights": "Lights on", "kpi.target": "Target",
    "layers": "Map layers", "layer.units": "Administrative units", "layer.feedback": "Open feedback",
    "layer.lights": "Streetlights",
    "layer.cameras": "Cameras", "layer.sensors": "Sensors (air, river level, traffic)",
    "layer.dossiers": "Dossiers on time (30 days)", "layer.gis": "GIS layers",
    "cam.usage": "Usage", "cam.type": "Type",
    "sensor.air": "Air quality", "sensor.water": "River level", "sensor.traffic": "Traffic flow",
    "sensor.airQualityIndex": "AQI", "sensor.airQualityLevel": "Level", "sensor.pm25": "PM2.5", "sensor.pm10": "PM10",
    "sensor.no2": "NO₂", "sensor.temperature": "Temperature", "sensor.height": "Water level", "sensor.flow": "Flow",
    "sensor.intensity": "Vehicles", "sensor.occupancy": "Occupancy", "sensor.averageVehicleSpeed": "Mean speed",
    "sensor.congested": "Congested", "sensor.observed": "Observed", "gis.history": "Parcel history",
    "trend": "Feedback per day", "rank.district": "By district", "rank.commune": "By commune",
    "feed": "Live events", "feed.empty": "Waiting for events…",
    "col.place": "Unit", "col.received": "Received", "col.settled": "Settled", "col.overdue": "Overdue",
    "ev.feedback.created": "New feedback", "ev.feedback.status": "Status changed",
    "ev.feedback.assigned": "Reassigned", "ev.feedback.noted": "Note",
    "ev.feedback.escalated": "Escalated", "ev.feedback.rated": "Rated",
    "ev.streetlight.command": "Streetlight command", "ev.streetlight.fault": "Streetlight fault",
    "ev.streetlight.fault_cleared": "Streetlight fault cleared",
    "ev.alert.raised": "New alert", "ev.alert.escalated": "Alert escalated",
    "ev.alert.acknowledged": "Alert acknowledged", "ev.alert.resolved": "Alert resolved",
    "layer.alerts": "Alerts", "alert.severity": "Severity", "alert.status": "Status",
    "alert.raised": "Raised", "alert.last": "Last seen", "alert.count": "Times", "alert.ack_by": "Acknowledged by",
    "alert.ack": "Acknowledge", "sev.info": "Info", "sev.warning": "Warning", "sev.critical": "Critical",
    "astatus.open": "Open", "astatus.acknowledged": "Acknowledged", "astatus.resolved": "Resolved",
    "brief.alerts": "Open critical alerts", "brief.alert_list": "Critical alerts", "brief.no_alerts": "No critical alerts",
    "light.title": "Streetlight", "light.state": "State", "light.power": "Power",
    "light.level": "Light level", "light.on": "On", "light.off": "Off", "light.dim": "Dim to",
    "light.history": "Last 24 hours", "light.history_src": "(NGSI-LD temporal)", "light.powerw": "Power (W)",
    "light.send": "Send", "light.sent": "Command sent, waiting for the device…", "light.answer": "Device answered",
    "brief.title": "Leaders' brief", "brief.today": "Today", "brief.yesterday": "vs yesterday",
    "brief.red": "Needs attention", "brief.overdue": "Overdue feedback", "brief.indicators": "Indicators",
    "brief.none": "No red indicators", "brief.previous": "vs previous period",
    "brief.received": "Feedback received today", "brief.settled": "Settled today",
    "citizen.title": "Report a problem", "citizen.service": "Category", "citizen.description": "What is wrong",
    "citizen.pin": "Tap the map to place a pin", "citizen.name": "Name", "citizen.phone": "Phone",
    "citizen.photo": "Photo (optional)", "citizen.submit": "Send", "citizen.sent": "Sent. Tracking code:", "citizen.track": "Track a report",
    "citizen.token": "Tracking code", "citizen.find": "Look up", "citizen.needpin": "Place a pin on the map first",
    "queue.title": "Feedback queue", "queue.status": "Status", "queue.all": "All",
    "queue.search": "Search", "queue.move": "Move to", "queue.note": "Note",
    "queue.details": "Details", "queue.agency": "Handled by", "queue.assign": "Give to",
    "queue.assign_go": "Reassign", "queue.note_text": "Internal note for colleagues", "queue.add_note": "Add note",
    "note.status": "Status", "note.assign": "Reassigned", "note.note": "Note", "note.escalate": "Escalated",
    "note.public": "public",
    "status.received": "Received", "status.assigned": "Assigned", "status.in_progress": "In progress",
    "status.resolved": "Resolved", "status.closed": "Closed", "status.rejected": "Rejected",
    "status.duplicate": "Duplicate",
  },
};

export function lang() {
  return localStorage.getItem(LANG) === "en" ? "en" : "vi";
}

export function t(key) {
  return TEXT[lang()][key] ?? TEXT.vi[key] ?? key;
}

/** Fill every [data-t] element with its text in the chosen language. */
export function translate(root = document) {
  document.documentElement.lang = lang();
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
}

export function switchLanguage() {
  localStorage.setItem(LANG, lang() === "vi" ? "en" : "vi");
  location.reload();
}

const LOCALE = () => (lang() === "vi" ? "vi-VN" : "en-GB");

export function num(value, digits = 0) {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat(LOCALE(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

export function pct(value) {
  return value === null || value === undefined ? "–" : `${num(value, 1)} %`;
}

export function when(iso) {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(LOCALE(), {
    timeZone: TZ, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  }).format(new Date(iso));
}

export function day(iso) {
  return new Intl.DateTimeFormat(LOCALE(), { timeZone: TZ, weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date(iso));
}

/** The local (Vietnam) day ``days`` before today as YYYY-MM-DD. */
export function localDay(days = 0) {
  const d = new Date(Date.now() - days * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(d);
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function me() {
  const raw = sessionStorage.getItem(ME);
  return raw ? JSON.parse(raw) : null;
}

export function logout() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(ME);
  location.href = "/ui/login";
}

/** Send the user to the login page unless a token is kept; returns who is logged in. */
export function requireLogin() {
  if (!token()) {
    location.href = `/ui/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new Error("not logged in");
  }
  return me();
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** A JSON call to ioc; a 401 sends the user back to the login page. */
export async function api(path, { method = "GET", body, form, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && token()) headers.Authorization = `Bearer ${token()}`;
  let payload;
  if (form) {
    payload = new URLSearchParams(form);
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401 && auth) {
    logout();
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export async function login(username, password) {
  const tok = await api("/api/v1/auth/token", { method: "POST", form: { username, password }, auth: false });
  sessionStorage.setItem(TOKEN, tok.access_token);
  const who = await api("/api/v1/me");
  sessionStorage.setItem(ME, JSON.stringify(who));
  return who;
}

/** Read the Server-Sent Events stream; calls ``onEvent`` per event, reconnects after a drop. */
export function liveEvents(onEvent, onState = () => {}) {
  let stopped = false;
  const controller = new AbortController();
  async function run() {
    while (!stopped) {
      try {
        const response = await fetch("/api/v1/web/events", {
          headers: { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" },
          signal: controller.signal,
        });
        if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
        onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
            if (data) onEvent(JSON.parse(data));
          }
        }
      } catch (err) {
        if (stopped) return;
      }
      onState(false);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  run();
  addEventListener("pagehide", () => { stopped = true; controller.abort(); });
  return () => { stopped = true; controller.abort(); };
}

/** The header every staff page shares: navigation, language switch, who is logged in. */
export function header(active) {
  const who = me();
  const el = document.querySelector("header.top");
  if (!el) return;
  el.querySelector(".who").textContent = who ? who.full_name || who.username : "";
  for (const a of el.querySelectorAll("nav a")) a.classList.toggle("on", a.dataset.page === active);
  el.querySelector(".lang").addEventListener("click", switchLanguage);
  el.querySelector(".logout").addEventListener("click", logout);
}

/** An empty offline map style: a background, plus the configured tile base map if any. */
export function mapStyle(basemap, background = "#0b1220") {
  const style = { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": background } }] };
  if (basemap) {
    style.sources.base = { type: "raster", tiles: [basemap], tileSize: 256 };
    style.layers.push({ id: "base", type: "raster", source: "base" });
  }
  return style;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
