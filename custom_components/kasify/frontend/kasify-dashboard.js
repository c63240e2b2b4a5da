// Kasify dashboard strategy (`strategy: {type: custom:kasify}`), served and loaded by the Kasify integration.
//
// One sections view: a section with today's check-ins, check-outs and turnovers across the portfolio, then one
// section per property (Kasify or casavi) with who is in and who is next, its locks (lock/unlock, battery,
// door, connectivity), its open tasks and its bookings calendar. Built-in cards only; the lists are markdown
// templates Home Assistant renders live from the integration's sensors. Nothing here reads access codes.
// Plain ES module, no build step, no dependency.

const DOMAIN = "kasify";
const STRATEGY = "kasify";
const OPEN_FEATURE = 1; // LockEntityFeature.OPEN
const FULL = { columns: 12 }; // a section's whole width

const STRINGS = {
  en: {
    description:
      "Today's check-ins, check-outs and turnovers, then every property with its locks, tasks and bookings.",
    today: "Today",
    check_ins: "Check-ins",
    check_outs: "Check-outs",
    turnovers: "Turnovers",
    none: "None today.",
    unknown: "Not known now for",
    arrived: "arrived",
    left: "left",
    out: "out",
    in: "in",
    locks: "Locks",
    no_properties:
      "No Kasify properties yet. Add a Kasify or casavi account under **Settings → Devices & services**; " +
      "its properties show up here.",
  },
  es: {
    description:
      "Entradas, salidas y cambios de huésped de hoy, y cada alojamiento con sus cerraduras, tareas y reservas.",
    today: "Hoy",
    check_ins: "Entradas",
    check_outs: "Salidas",
    turnovers: "Cambios de huésped",
    none: "Ninguna hoy.",
    unknown: "Sin datos ahora de",
    arrived: "ya ha llegado",
    left: "ya se ha ido",
    out: "sale",
    in: "entra",
    locks: "Cerraduras",
    no_properties:
      "Todavía no hay alojamientos de Kasify. Añade una cuenta de Kasify o casavi en " +
      "**Ajustes → Dispositivos y servicios**; sus alojamientos aparecen aquí.",
  },
};

export function strings(language) {
  const base = String(language || "en").toLowerCase().split(/[-_]/)[0];
  return STRINGS[base] || STRINGS.en;
}

const isProperty = (device) =>
  (device.identifiers || []).some(([domain, id]) => domain === DOMAIN && /(^|_)property_/.test(String(id)));

const deviceName = (device) => device.name_by_user || device.name || "";

const byName = (a, b) => deviceName(a).localeCompare(deviceName(b));

// ``name`` without a leading ``prefix`` (and the separator after it), when something is left.
function withoutPrefix(name, prefix) {
  if (prefix && name.startsWith(prefix)) {
    const rest = name.slice(prefix.length).replace(/^[\s\-–—·:|,]+/, "");
    if (rest) return rest;
  }
  return name;
}

// A card's label: the entity's name without its device's, as Home Assistant composed the friendly name.
const label = (hass, entityId, device) =>
  withoutPrefix(String(hass.states[entityId]?.attributes?.friendly_name ?? entityId), deviceName(device));

// The integration's entities that have a state, with what the strategy needs to know of them, by device id.
function entityIndex(hass) {
  const index = new Map();
  for (const entry of Object.values(hass.entities || {})) {
    const state = hass.states[entry.entity_id];
    if (entry.platform !== DOMAIN || entry.hidden || !entry.device_id || state === undefined) continue;
    if (!index.has(entry.device_id)) index.set(entry.device_id, []);
    index.get(entry.device_id).push({
      id: entry.entity_id,
      domain: entry.entity_id.split(".")[0],
      key: entry.translation_key || "",
      deviceClass: state.attributes.device_class,
      features: Number(state.attributes.supported_features) || 0,
    });
  }
  return index;
}

const find = (entities, domain, test) => entities.find((e) => e.domain === domain && test(e));

function propertyEntities(index, device) {
  const all = index.get(device.id) || [];
  return {
    occupied: find(all, "binary_sensor", (e) => e.key === "occupied"),
    current: find(all, "sensor", (e) => e.key === "current_guest"),
    next: find(all, "sensor", (e) => e.key === "next_check_in"),
    tasks: find(all, "sensor", (e) => e.key.startsWith("open_")),
    calendar: find(all, "calendar", () => true),
  };
}

function lockCards(hass, index, lock, property) {
  const all = index.get(lock.id) || [];
  const control = find(all, "lock", () => true) || find(all, "binary_sensor", (e) => e.deviceClass === "lock");
  if (!control) return [];
  const name = withoutPrefix(deviceName(lock), deviceName(property));
  const tile = { type: "tile", entity: control.id, name, grid_options: FULL };
  if (control.domain === "lock") {
    tile.features = [{ type: "lock-commands" }];
    if (control.features & OPEN_FEATURE) tile.features.push({ type: "lock-open-door" });
  }
  const battery =
    find(all, "sensor", (e) => e.deviceClass === "battery") ||
    find(all, "binary_sensor", (e) => e.deviceClass === "battery");
  const status = [
    battery,
    find(all, "binary_sensor", (e) => e.deviceClass === "door"),
    find(all, "binary_sensor", (e) => e.deviceClass === "connectivity"),
  ].filter(Boolean);
  const cards = [tile];
  if (status.length) {
    cards.push({
      type: "glance",
      show_name: true,
      show_state: true,
      state_color: true,
      entities: status.map((e) => ({ entity: e.id, name: label(hass, e.id, lock) })),
    });
  }
  return cards;
}

function tile(hass, entity, device, extra = {}) {
  return { type: "tile", entity: entity.id, name: label(hass, entity.id, device), ...extra };
}

function propertySection(hass, t, index, device, found, locks) {
  const cards = [{ type: "heading", heading: deviceName(device), heading_style: "title", icon: "mdi:home-city" }];
  if (found.occupied) cards.push(tile(hass, found.occupied, device));
  if (found.current) cards.push(tile(hass, found.current, device));
  if (found.next) {
    const extra = { state_content: ["state", "guest_name"], grid_options: FULL };
    cards.push(tile(hass, found.next, device, extra));
  }
  if (locks.length) {
    cards.push({ type: "heading", heading: t.locks, heading_style: "subtitle", icon: "mdi:lock" });
    for (const lock of locks) cards.push(...lockCards(hass, index, lock, device));
  }
  if (found.tasks) {
    cards.push(tile(hass, found.tasks, device, { grid_options: FULL }));
    cards.push({
      type: "markdown",
      content: tasksTemplate(found.tasks.id),
      visibility: [{ condition: "numeric_state", entity: found.tasks.id, above: 0 }],
    });
  }
  if (found.calendar) {
    cards.push({
      type: "calendar",
      title: label(hass, found.calendar.id, device),
      entities: [found.calendar.id],
      initial_view: "listWeek",
    });
  }
  return { type: "grid", cards };
}

function tasksTemplate(entityId) {
  return (
    `{% for task in state_attr('${entityId}', 'tasks') or [] %}\n` +
    "- {{ task.title }}{% if task.due %} · {{ as_timestamp(task.due) | timestamp_custom('%d/%m %H:%M') }}" +
    "{% endif %}\n{% endfor %}"
  );
}

// A Jinja string literal holding ``text``.
const literal = (text) => `'${String(text).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

// What each property says about today, in Jinja: who arrived or arrives, who leaves or left (from its
// occupancy, current-guest and next-check-in sensors), as local times.
const TODAY = [
  "{%- set today = now().date() -%}",
  "{%- set ns = namespace(lines=[], unknown=[]) -%}",
  "{%- for p in props -%}",
  "{%- set name = device_attr(p.o, 'name_by_user') or device_attr(p.o, 'name') -%}",
  "{%- if states(p.o) in ['unavailable', 'unknown'] -%}{%- set ns.unknown = ns.unknown + [name] -%}{%- endif -%}",
  "{%- set cur_in = state_attr(p.c, 'check_in') if p.c else none -%}",
  "{%- set cur_out = state_attr(p.c, 'check_out') if p.c else none -%}",
  "{%- set nxt = states(p.n) if p.n and states(p.n) not in ['unknown', 'unavailable', ''] else none -%}",
  "{%- set last = state_attr(p.o, 'last_check_out') -%}",
  "{%- set cur_in = as_datetime(cur_in) | as_local if cur_in else none -%}",
  "{%- set cur_out = as_datetime(cur_out) | as_local if cur_out else none -%}",
  "{%- set nxt = as_datetime(nxt) | as_local if nxt else none -%}",
  "{%- set last = as_datetime(last) | as_local if last else none -%}",
  "{%- set arrived = cur_in is not none and cur_in.date() == today -%}",
  "{%- set arriving = nxt is not none and nxt.date() == today -%}",
  "{%- set leaving = cur_out is not none and cur_out.date() == today -%}",
  "{%- set left = last is not none and last.date() == today -%}",
];

// Adds a markdown list item to ``ns.lines``: the property's name in bold, then ``parts`` (Jinja expressions).
const item = (...parts) => `{%- set ns.lines = ns.lines + ['- **' ~ name ~ '** · ' ~ ${parts.join(" ~ ")}] -%}`;
const hhmm = (instant) => `${instant}.strftime('%H:%M')`;
const done = (word) => literal(` ✓ ${word}`);

function todayLines(t, kind) {
  const sep = "' · '";
  if (kind === "check_ins") {
    return [
      `{%- if arrived -%}${item("states(p.c)", sep, hhmm("cur_in"), done(t.arrived))}`,
      `{%- elif arriving -%}${item("(state_attr(p.n, 'guest_name') or '')", sep, hhmm("nxt"))}{%- endif -%}`,
    ];
  }
  if (kind === "check_outs") {
    return [
      `{%- if leaving -%}${item("states(p.c)", sep, hhmm("cur_out"))}`,
      `{%- elif left -%}${item("(state_attr(p.o, 'last_guest_name') or '')", sep, hhmm("last"), done(t.left))}`,
      "{%- endif -%}",
    ];
  }
  return [
    "{%- set out = cur_out if leaving else (last if left else none) -%}",
    "{%- set inn = cur_in if arrived else (nxt if arriving else none) -%}",
    "{%- if out is not none and inn is not none and out <= inn -%}",
    item(literal(`${t.out} `), hhmm("out"), literal(` → ${t.in} `), hhmm("inn")),
    "{%- endif -%}",
  ];
}

// The Jinja that lists one kind of today's changes across the properties. Only entity ids (a-z, 0-9, _ and .)
// and the strategy's own words are written into it; names and times come from the states when it is rendered.
function todayTemplate(t, stays, kind) {
  const rows = stays.map((s) => `{"o": "${s.occupied}", "c": "${s.current || ""}", "n": "${s.next || ""}"}`);
  return [
    `{%- set props = [${rows.join(", ")}] -%}`,
    ...TODAY,
    ...todayLines(t, kind),
    "{%- endfor -%}",
    // Properties whose sensors are unavailable (their account is down) are named, never counted as quiet.
    "{%- if ns.unknown -%}",
    `{%- set ns.lines = ns.lines + ['_' ~ ${literal(t.unknown)} ~ ' ' ~ ns.unknown | join(', ') ~ '_'] -%}`,
    "{%- endif -%}",
    `{{ ns.lines | join('\\n') if ns.lines else ${literal(t.none)} }}`,
  ].join("\n");
}

function todaySection(t, properties) {
  const stays = properties
    .filter((found) => found.occupied)
    .map((found) => ({ occupied: found.occupied.id, current: found.current?.id, next: found.next?.id }));
  const cards = [{ type: "heading", heading: t.today, heading_style: "title", icon: "mdi:calendar-today" }];
  for (const [kind, icon] of [
    ["check_ins", "mdi:login"],
    ["check_outs", "mdi:logout"],
    ["turnovers", "mdi:autorenew"],
  ]) {
    cards.push({ type: "heading", heading: t[kind], heading_style: "subtitle", icon });
    cards.push({ type: "markdown", content: todayTemplate(t, stays, kind) });
  }
  return { type: "grid", cards };
}

async function registryDevices(hass) {
  // The full entries (with identifiers), which every user may list; hass.devices is not the same everywhere.
  const devices = await hass.callWS({ type: "config/device_registry/list" });
  return Array.isArray(devices) ? devices : Object.values(hass.devices || {});
}

export async function generateDashboard(config, hass) {
  const t = strings(hass.locale?.language || hass.language);
  const devices = await registryDevices(hass);
  const index = entityIndex(hass);
  const found = new Map(devices.filter(isProperty).map((device) => [device, propertyEntities(index, device)]));
  // Rentals with guest stays (Kasify) first, then the others (casavi), each by name.
  const stays = (device) => (found.get(device).occupied ? 0 : 1);
  const properties = [...found.keys()].sort((a, b) => stays(a) - stays(b) || byName(a, b));
  const locks = new Map();
  for (const device of [...devices].sort(byName)) {
    if (!device.via_device_id) continue;
    if (!locks.has(device.via_device_id)) locks.set(device.via_device_id, []);
    locks.get(device.via_device_id).push(device);
  }
  const sections = [];
  if (!properties.length) {
    sections.push({ type: "grid", cards: [{ type: "markdown", content: t.no_properties }] });
  } else {
    sections.push(todaySection(t, properties.map((device) => found.get(device))));
    for (const property of properties) {
      const own = locks.get(property.id) || [];
      sections.push(propertySection(hass, t, index, property, found.get(property), own));
    }
  }
  return {
    title: config?.title || "Kasify",
    views: [{ type: "sections", title: "Kasify", path: "kasify", icon: "mdi:home-city", max_columns: 4, sections }],
  };
}

class KasifyDashboardStrategy extends HTMLElement {
  static getCreateSuggestions() {
    return { title: "Kasify", icon: "mdi:home-city" };
  }

  static async generate(config, hass) {
    return generateDashboard(config, hass);
  }
}

if (!customElements.get(`ll-strategy-dashboard-${STRATEGY}`)) {
  customElements.define(`ll-strategy-dashboard-${STRATEGY}`, KasifyDashboardStrategy);
}

// Listed under "Add dashboard" by Home Assistant 2026.5 and newer (older releases ignore it).
window.customStrategies = window.customStrategies || [];
if (!window.customStrategies.some((s) => s.type === STRATEGY && s.strategyType === "dashboard")) {
  window.customStrategies.push({
    type: STRATEGY,
    strategyType: "dashboard",
    name: "Kasify",
    description: strings(document.documentElement.lang || navigator.language).description,
    documentationURL: "https://github.com/kasify/kasify-home-assistant#dashboard",
  });
}
