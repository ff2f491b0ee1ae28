// @ts-check
// One well: rates (calendar- or producing-day, linear or log), cumulatives, water cut and
// GOR, a decline fit with its forecast and EUR, and its records' flags and versions.
import { ApiFailure, codePath, get, getAll } from "../api.js";
import { COLORS, chart, figure, periodTime } from "../charts.js";
import { facts, field, h, link, num, pct, select, when } from "../dom.js";

const STREAMS = /** @type {const} */ (["oil", "gas", "water"]);
const UNITS = { oil: "bbl/d", gas: "Mcf/d", water: "bbl/d" };

/** @param {HTMLElement} main @param {{navigate: (href: string) => void}} app @param {string} code */
export async function render(main, app, code) {
  const base = `/api/v1/wells/${codePath(code)}`;
  // the default fit is asked for with the rest, settled either way
  const firstFit = fitted(base, "oil", "auto");
  const [well, series, records] = await Promise.all([
    get(base),
    getAll(`${base}/production`, { granularity: "month", cumulative: true, limit: 10000 }),
    getAll(`${base}/records`, { limit: 10000 }),
  ]);
  const query = new URLSearchParams(location.search);
  const view = { rate: query.get("rate") || "calendar", scale: query.get("scale") || "linear" };
  const items = series.items;
  const x = items.map((/** @type {any} */ i) => periodTime(i.period));

  const rates = figure("Oil, gas and water rates per month", "rates-chart");
  const cumulative = figure("Cumulative oil, gas and water", "cumulative-chart");
  const ratios = figure("Water cut and gas-oil ratio per month", "ratios-chart");
  const decline = h("section", { "aria-labelledby": "decline-title", id: "decline" });

  const rateSelect = select("rate", "Rate basis", [["calendar", "Calendar-day"], ["producing", "Producing-day"]], view.rate);
  const scaleSelect = select("scale", "Scale", [["linear", "Linear"], ["log", "Log"]], view.scale);
  const redraw = () => {
    view.rate = rateSelect.value;
    view.scale = scaleSelect.value;
    const next = new URLSearchParams({ rate: view.rate, scale: view.scale });
    history.replaceState(null, "", `${location.pathname}?${next}`);
    drawRates(rates, x, items, view);
  };
  rateSelect.addEventListener("change", redraw);
  scaleSelect.addEventListener("change", redraw);

  main.replaceChildren(
    h("h1", null, well.well_name ? `${well.well_name} (${well.well_code})` : `Well ${well.well_code}`),
    facts([
      ["Reference", well.well_reference || "—"],
      ["Fields", well.field_codes.length ? well.field_codes.map((/** @type {string} */ f) => link(`/ui/fields/${codePath(f)}`, f)) : "—"],
      ["Operator", well.operator || "—"],
      ["Status", well.well_status || "—"],
      ["Periods", `${well.first_period || "—"} to ${well.last_period || "—"}`],
      ["Cumulative oil", `${num(well.cumulative.oil_bbl)} bbl`],
      ["Cumulative gas", `${num(well.cumulative.gas_mcf)} Mcf`],
      ["Cumulative water", `${num(well.cumulative.water_bbl)} bbl`],
    ]),
    h("section", { "aria-labelledby": "production-title" },
      h("h2", { id: "production-title" }, "Production"),
      h("div", { class: "controls", role: "group", "aria-label": "Chart options" },
        field("Rate basis", rateSelect), field("Scale", scaleSelect)),
      rates, cumulative, ratios),
    decline,
    h("section", { "aria-labelledby": "records-title" }, h("h2", { id: "records-title" }, "Records"), recordsTable(records.items)),
  );
  drawRates(rates, x, items, view);
  chart("cumulative", cumulative, {
    title: "Cumulative production", x, y: "bbl", y2: "Mcf",
    lines: [
      { label: "Oil (bbl)", values: items.map((/** @type {any} */ i) => i.cum_oil_bbl), color: COLORS.oil },
      { label: "Water (bbl)", values: items.map((/** @type {any} */ i) => i.cum_water_bbl), color: COLORS.water },
      { label: "Gas (Mcf)", values: items.map((/** @type {any} */ i) => i.cum_gas_mcf), color: COLORS.gas, scale: "y2" },
    ],
  });
  chart("ratios", ratios, {
    title: "Water cut and GOR", x, y: "water cut", y2: "scf/bbl",
    lines: [
      { label: "Water cut", values: items.map((/** @type {any} */ i) => i.water_cut), color: COLORS.water },
      { label: "GOR (scf/bbl)", values: items.map((/** @type {any} */ i) => i.gor), color: COLORS.gas, scale: "y2" },
    ],
  });
  await declinePanel(decline, base, items, firstFit);
  void app;
}

/** @param {HTMLElement} target @param {number[]} x @param {any[]} items @param {{rate: string, scale: string}} view */
function drawRates(target, x, items, view) {
  const suffix = view.rate === "producing" ? "pd" : "cd";
  const basis = view.rate === "producing" ? "producing-day" : "calendar-day";
  chart("rates", target, {
    title: `Rates (${basis}, ${view.scale})`, x, log: view.scale === "log", y: "bbl/d", y2: "Mcf/d",
    lines: STREAMS.map((s) => ({
      label: `${s[0].toUpperCase()}${s.slice(1)} (${UNITS[s]})`,
      values: items.map((i) => i[`${s}_rate_${suffix}`]),
      color: COLORS[s],
      scale: s === "gas" ? "y2" : "y",
    })),
  });
}

/** A fit, or the error that refused it. @param {string} base @param {string} stream @param {string} model */
function fitted(base, stream, model) {
  return get(`${base}/decline`, { stream, model }).then((fit) => ({ fit, error: null }), (error) => ({ fit: null, error }));
}

/** @param {HTMLElement} section @param {string} base @param {any[]} items @param {Promise<{fit: any, error: any}>} first */
async function declinePanel(section, base, items, first) {
  const stream = select("stream", "Stream", [["oil", "Oil"], ["gas", "Gas"], ["water", "Water"], ["boe", "BOE"]], "oil");
  const model = select("model", "Model", [["auto", "Best fit"], ["exponential", "Exponential"], ["harmonic", "Harmonic"], ["hyperbolic", "Hyperbolic"], ["modified_hyperbolic", "Modified hyperbolic"]], "auto");
  const out = h("div", { "aria-live": "polite" });
  const plot = figure("Decline fit: monthly rates and forecast", "decline-chart");
  const form = h("form", { class: "controls", "aria-label": "Decline fit" },
    field("Stream", stream), field("Model", model), h("button", { type: "submit" }, "Fit"));
  section.replaceChildren(h("h2", { id: "decline-title" }, "Decline fit and forecast"), form, out, plot);
  /** @param {Promise<{fit: any, error: any}>} asked */
  const show = async (asked) => {
    const { fit, error } = await asked;
    if (error && !(error instanceof ApiFailure && error.status === 422)) throw error;
    if (error) {
      out.replaceChildren(h("p", { class: "note", role: "status" }, `No fit: ${error.message}`));
      plot.replaceChildren();
      return;
    }
    out.replaceChildren(declineFacts(fit));
    drawDecline(plot, fit, items);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void show(fitted(base, stream.value, model.value));
  });
  await show(first);
}

/** @param {any} fit */
function declineFacts(fit) {
  const p = fit.parameters;
  return facts([
    ["Model", fit.model],
    ["Fit", `${fit.fit.from} to ${fit.fit.to} (${fit.fit.months} months), R² ${num(fit.fit.r2)}`],
    ["qi", `${num(p.qi)} ${fit.rate_unit}`],
    ["Initial decline", `${pct(p.di_effective)} per year (nominal ${num(p.di_nominal)})`],
    ["b", num(p.b)],
    ["Cumulative to date", `${num(fit.cumulative_to_date)} ${fit.volume_unit}`],
    ["Remaining", `${num(fit.remaining)} ${fit.volume_unit}`],
    ["EUR", `${num(fit.eur)} ${fit.volume_unit}`],
  ]);
}

/** History (the fitted stream's monthly rates) and the forecast on one time axis. @param {HTMLElement} target @param {any} fit @param {any[]} items */
function drawDecline(target, fit, items) {
  const suffix = fit.rate_basis === "producing" ? "pd" : "cd";
  const history = new Map(items.map((i) => [i.period, i[`${fit.stream}_rate_${suffix}`] ?? null]));
  const forecast = new Map(fit.forecast.map((/** @type {any} */ f) => [f.period, f.rate]));
  const periods = [...new Set([...history.keys(), ...forecast.keys()])].sort();
  const color = COLORS[/** @type {keyof typeof COLORS} */ (fit.stream)] || COLORS.oil;
  chart("decline", target, {
    title: `Decline: ${fit.stream} (${fit.model})`, x: periods.map(periodTime), y: fit.rate_unit,
    lines: [
      { label: `History (${fit.rate_unit})`, values: periods.map((p) => history.get(p) ?? null), color, points: true, width: 0 },
      { label: `Forecast (${fit.rate_unit})`, values: periods.map((p) => forecast.get(p) ?? null), color: "#000", dash: [6, 4] },
    ],
  });
}

/** @param {any[]} records */
function recordsTable(records) {
  if (!records.length) return h("p", null, "No records.");
  const flagged = records.filter((r) => r.flags.length).length;
  const restated = records.filter((r) => r.versions.length > 1).length;
  return h("table", { id: "records-table" },
    h("caption", null, `${records.length} records, ${flagged} flagged, ${restated} restated`),
    h("thead", null, h("tr", null, ["Period", "Field", "Source", "Flags", "Versions"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", null, records.map((r) => h("tr", null,
      h("td", null, r.period),
      h("td", null, r.field_code || "—"),
      h("td", null, r.data_source),
      h("td", null, r.flags.length ? r.flags.map((/** @type {string} */ f) => h("span", { class: "flag" }, f)) : "—"),
      h("td", null, r.versions.length > 1
        ? h("details", null, h("summary", null, `${r.versions.length} versions`), versions(r.versions))
        : `version ${r.versions[0].version}`),
    ))),
  );
}

/** @param {any[]} list */
function versions(list) {
  return h("ol", { class: "versions" }, list.map((v, i) => h("li", null,
    `${i ? "" : "current: "}v${v.version} rev ${v.revision}, ${when(v.ingested_at)}: oil ${num(v.oil_bbl)} bbl, gas ${num(v.gas_mcf)} Mcf, water ${num(v.water_bbl)} bbl`,
    v.flags.length ? ` [${v.flags.join(", ")}]` : "")));
}
