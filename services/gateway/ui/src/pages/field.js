// @ts-check
// One field: its production, each well's contribution stacked, and the type-curve fan
// (P10/P50/P90) of its wells aligned at their first month.
import { codePath, get, getAll } from "../api.js";
import { COLORS, chart, figure, palette, periodTime, stacked } from "../charts.js";
import { facts, field, h, link, num, select } from "../dom.js";

/** @param {HTMLElement} main @param {any} app @param {string} code */
export async function render(main, app, code) {
  const base = `/api/v1/fields/${codePath(code)}`;
  const query = new URLSearchParams(location.search);
  const asked = query.get("stream") || "oil";
  const stream = ["oil", "gas", "water"].includes(asked) ? asked : "oil";
  const [detail, series, split, curves] = await Promise.all([
    get(base),
    getAll(`${base}/production`, { granularity: "month", limit: 10000 }),
    get(`${base}/contributions`, { stream, top: 10 }),
    get("/api/v1/type-curves", { stream, field_code: code, months: 60 }),
  ]);
  const streamSelect = select("stream", "Stream", [["oil", "Oil"], ["gas", "Gas"], ["water", "Water"]], stream);
  streamSelect.addEventListener("change", () => app.navigate(`${location.pathname}?stream=${streamSelect.value}`));
  const production = figure("Field production per month", "production-chart");
  const contributions = figure(`Each well's ${stream} per month, stacked`, "contributions-chart");
  const fan = figure(`Type curve of ${stream}: P10, P50 and P90 by month on production`, "type-curve-chart");
  main.replaceChildren(
    h("h1", null, detail.field_name ? `${detail.field_name} (${detail.field_code})` : `Field ${detail.field_code}`),
    facts([
      ["Wells", link(`/ui/wells?field_code=${encodeURIComponent(detail.field_code)}`, num(detail.wells))],
      ["Periods", `${detail.first_period || "—"} to ${detail.last_period || "—"}`],
      ["Cumulative oil", `${num(detail.cumulative.oil_bbl)} bbl`],
      ["Cumulative gas", `${num(detail.cumulative.gas_mcf)} Mcf`],
      ["Cumulative water", `${num(detail.cumulative.water_bbl)} bbl`],
    ]),
    h("div", { class: "controls", role: "group", "aria-label": "Chart options" }, field("Stream", streamSelect)),
    h("section", { "aria-labelledby": "production-title" }, h("h2", { id: "production-title" }, "Production"), production),
    h("section", { "aria-labelledby": "wells-title" }, h("h2", { id: "wells-title" }, "Contributions of its wells"), contributions, legend(split)),
    h("section", { "aria-labelledby": "type-title" }, h("h2", { id: "type-title" }, "Type curve"), fan,
      h("p", { class: "note" }, `${curves.wells} wells aligned at their first month with ${stream}; P10 is the high case.`)),
  );
  const items = series.items;
  chart("production", production, {
    title: "Production per month", x: items.map((/** @type {any} */ i) => periodTime(i.period)), y: "bbl", y2: "Mcf",
    lines: [
      { label: "Oil (bbl)", values: items.map((/** @type {any} */ i) => i.oil_bbl), color: COLORS.oil },
      { label: "Water (bbl)", values: items.map((/** @type {any} */ i) => i.water_bbl), color: COLORS.water },
      { label: "Gas (Mcf)", values: items.map((/** @type {any} */ i) => i.gas_mcf), color: COLORS.gas, scale: "y2" },
    ],
  });
  drawContributions(contributions, split);
  drawFan(fan, curves);
}

/** @param {HTMLElement} target @param {any} split */
function drawContributions(target, split) {
  const tops = stacked(split.series.map((/** @type {any} */ s) => s.values));
  const lines = split.series.map((/** @type {any} */ s, /** @type {number} */ i) => ({
    label: s.well_code || `${s.wells} other wells`,
    values: tops[i],
    color: s.well_code ? palette(i) : COLORS.other,
    fill: (s.well_code ? palette(i) : COLORS.other) + "cc",
  }));
  // drawn from the top of the stack down, each filled to the axis over the one above
  chart("contributions", target, {
    title: `${split.stream} per well (${split.volume_unit}, stacked)`,
    x: split.periods.map(periodTime), y: split.volume_unit, lines: lines.reverse(),
  });
}

/** @param {any} split */
function legend(split) {
  return h("ol", { class: "wells", "aria-label": "Wells by volume" }, split.series.map((/** @type {any} */ s) =>
    h("li", null, s.well_code ? link(`/ui/wells/${codePath(s.well_code)}`, s.well_code) : `${s.wells} other wells`,
      `: ${num(s.total)} ${split.volume_unit}`)));
}

/** @param {HTMLElement} target @param {any} curves */
function drawFan(target, curves) {
  const items = curves.items;
  if (!items.length) {
    target.append(h("p", null, "No wells to align."));
    return;
  }
  const pick = (/** @type {string} */ key) => items.map((/** @type {any} */ i) => i[key]);
  chart("typeCurve", target, {
    title: `Type curve (${curves.volume_unit} per month)`, time: false, x: pick("month"), y: curves.volume_unit,
    bands: [[1, 3]],
    lines: [
      { label: "P10", values: pick("p10"), color: "#90a4ae", fill: "#90a4ae44" },
      { label: "P50", values: pick("p50"), color: "#263238", width: 2.5 },
      { label: "P90", values: pick("p90"), color: "#90a4ae" },
      { label: "Mean", values: pick("mean"), color: COLORS.boe, dash: [4, 4] },
    ],
  });
}
