// @ts-check
// Charts drawn by uPlot. Each chart is kept by name on `window.wellstream.charts`, so a
// test can read the values a chart holds and compare them with the API's.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom.js";

/** @type {Record<string, uPlot>} */
const charts = {};
/** @type {any} */ (window).wellstream = { charts };

export const COLORS = {
  oil: "#2e7d32",
  gas: "#c62828",
  water: "#1565c0",
  liquids: "#6a1b9a",
  boe: "#ef6c00",
  other: "#9e9e9e",
};
const PALETTE = ["#1b5e20", "#0d47a1", "#b71c1c", "#4a148c", "#e65100", "#006064", "#827717", "#3e2723", "#880e4f", "#263238", "#33691e", "#01579b"];

/** @param {number} i */
export function palette(i) {
  return PALETTE[i % PALETTE.length];
}

/** A period label (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) as Unix seconds at its start, UTC. @param {string} period */
export function periodTime(period) {
  const [y, m = "1", d = "1"] = period.split("-");
  return Date.UTC(Number(y), Number(m) - 1, Number(d)) / 1000;
}

/**
 * @typedef {{label: string, values: (number | null)[], color: string, scale?: string,
 *   fill?: string, dash?: number[], points?: boolean, width?: number}} Line
 * @typedef {{title: string, x: number[], lines: Line[], time?: boolean, log?: boolean,
 *   y?: string, y2?: string, height?: number, bands?: [number, number][]}} Spec
 */

/** @param {Spec} spec */
function options(spec, width) {
  const y = spec.log ? { distr: 3 } : { auto: true };
  /** @type {uPlot.Axis[]} */
  const axes = [{}, { label: spec.y, size: 70 }];
  if (spec.y2) axes.push({ scale: "y2", side: 1, label: spec.y2, size: 70, grid: { show: false } });
  return {
    title: spec.title,
    width,
    height: spec.height || 320,
    tzDate: (/** @type {number} */ ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    scales: { x: { time: spec.time !== false }, y, y2: { auto: true } },
    axes,
    bands: (spec.bands || []).map(([a, b]) => ({ series: /** @type {[number, number]} */ ([a, b]) })),
    series: [
      { label: spec.time === false ? "Month" : "Period" },
      ...spec.lines.map((line) => ({
        label: line.label,
        stroke: line.color,
        fill: line.fill,
        dash: line.dash,
        width: line.width || 1.5,
        scale: line.scale || "y",
        points: { show: line.points || false },
        spanGaps: false,
      })),
    ],
  };
}

/**
 * Draws (or redraws) the chart `name` into `target`; on a log scale a value <= 0 is a gap.
 * @param {string} name @param {HTMLElement} target @param {Spec} spec
 */
export function chart(name, target, spec) {
  charts[name]?.destroy();
  target.replaceChildren();
  const lines = spec.lines.map((line) =>
    spec.log && (line.scale || "y") === "y" ? line.values.map((v) => (v !== null && v > 0 ? v : null)) : line.values,
  );
  const width = Math.max(target.clientWidth || 0, 320);
  const plot = new uPlot(/** @type {uPlot.Options} */ (options(spec, width)), [spec.x, ...lines], target);
  charts[name] = plot;
  return plot;
}

/** A figure the chart is drawn into, labelled for screen readers. @param {string} label @param {string} [id] */
export function figure(label, id) {
  return h("figure", { class: "chart", role: "img", "aria-label": label, id });
}

/** Running sums from the first series up: the tops of a stacked chart. @param {(number | null)[][]} series */
export function stacked(series) {
  /** @type {number[]} */
  let below = [];
  return series.map((values) => {
    below = values.map((v, i) => (below[i] || 0) + (v || 0));
    return below;
  });
}

window.addEventListener("resize", () => {
  for (const plot of Object.values(charts)) {
    const width = plot.root.parentElement?.clientWidth;
    if (width) plot.setSize({ width: Math.max(width, 320), height: plot.height });
  }
});
