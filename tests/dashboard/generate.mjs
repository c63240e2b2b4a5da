// Runs the Kasify dashboard strategy as Home Assistant's frontend does: loads the module the integration serves,
// finds the strategy element it defines and calls its static generate(config, hass).
//
//   node tests/dashboard/generate.mjs MODULE < snapshot.json
//
// The snapshot (written by tests/test_dashboard.py from a running test instance) holds `hass` (states, entity
// registry display entries, locale) and `devices` (what `config/device_registry/list` answers). Prints
// {config, strategies, suggestions} as JSON.
import { readFileSync } from "node:fs";

const [modulePath] = process.argv.slice(2);
const snapshot = JSON.parse(readFileSync(0, "utf8"));

const elements = new Map();
globalThis.window = globalThis;
globalThis.HTMLElement = class {};
globalThis.customElements = {
  get: (name) => elements.get(name),
  define: (name, constructor) => {
    if (elements.has(name)) throw new Error(`${name} is defined twice`);
    elements.set(name, constructor);
  },
};
globalThis.document = { documentElement: { lang: snapshot.hass.language } };
Object.defineProperty(globalThis, "navigator", { value: { language: "en-US" }, configurable: true });

// A data: URL is always an ES module, as the frontend loads it (<script type="module">).
const source = readFileSync(modulePath, "utf8");
await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
// Loading the module twice (two tabs of one window never do, but a re-import could) defines nothing twice.
await import(`data:text/javascript;base64,${Buffer.from(source + "\n// again").toString("base64")}`);

const Strategy = customElements.get("ll-strategy-dashboard-kasify");
const calls = [];
const hass = {
  ...snapshot.hass,
  callWS: async (message) => {
    calls.push(message.type);
    if (message.type === "config/device_registry/list") return snapshot.devices;
    throw new Error(`unexpected websocket command ${message.type}`);
  },
};
const config = await Strategy.generate({ type: "custom:kasify" }, hass);
process.stdout.write(
  JSON.stringify({ config, strategies: window.customStrategies, suggestions: Strategy.getCreateSuggestions(), calls }),
);
