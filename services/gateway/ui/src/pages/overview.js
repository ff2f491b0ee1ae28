// @ts-check
import { get } from "../api.js";
import { chart, figure, palette, periodTime, stacked } from "../charts.js";
import { facts, h, num, when } from "../dom.js";

/** @param {HTMLElement} main */
export async function render(main) {
  const [stats, reasons, pipeline] = await Promise.all([
    get("/api/v1/stats"),
    get("/api/v1/stats/dead-letters", { days: 90 }),
    get("/api/v1/pipeline"),
  ]);
  const dead = figure("Dead letters per day by rejection code, last 90 days", "dead-letters-chart");
  main.replaceChildren(
    h("h1", null, "Overview"),
    h("section", { "aria-labelledby": "store" },
      h("h2", { id: "store" }, "Store"),
      facts([
        ["Records", num(stats.records)],
        ["Wells", num(stats.wells)],
        ["Fields", num(stats.fields)],
        ["Periods", `${stats.period_range.first || "—"} to ${stats.period_range.last || "—"}`],
        ["Last ingest", when(stats.last_ingest_at)],
        ["Dead letters", num(stats.dead_letters)],
      ]),
    ),
    h("section", { "aria-labelledby": "dead" }, h("h2", { id: "dead" }, "Dead letters by reason"), dead),
    h("section", { "aria-labelledby": "health" }, h("h2", { id: "health" }, "Pipeline health"), health(pipeline)),
  );
  drawReasons(dead, reasons.since, reasons.items);
}

/** Every day from `since` to today, `YYYY-MM-DD`. @param {string} since */
function daysSince(since) {
  const days = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let day = new Date(since.slice(0, 10)); ; day.setUTCDate(day.getUTCDate() + 1)) {
    const text = day.toISOString().slice(0, 10);
    days.push(text);
    if (text >= today) return days;
  }
}

/** @param {HTMLElement} target @param {string} since @param {{day: string, error_code: string, count: number}[]} items */
function drawReasons(target, since, items) {
  if (!items.length) {
    target.append(h("p", null, "No dead letters in the last 90 days."));
    return;
  }
  const days = daysSince(since);
  const codes = [...new Set(items.map((i) => i.error_code))].sort();
  const at = new Map(days.map((d, i) => [d, i]));
  const per = codes.map((code) => {
    const values = days.map(() => 0);
    for (const item of items) if (item.error_code === code) values[at.get(item.day) || 0] = item.count;
    return values;
  });
  const tops = stacked(per);
  // drawn from the top of the stack down, each filled to the axis over the one above
  const lines = codes.map((code, i) => ({ label: code, values: tops[i], color: palette(i), fill: palette(i) + "cc" })).reverse();
  chart("deadLetters", target, { title: "Dead letters per day (stacked by code)", x: days.map(periodTime), lines, y: "dead letters" });
}

/** @param {{services: any[], checked_at: string}} pipeline */
function health(pipeline) {
  if (!pipeline.services.length) return h("p", null, "No services configured (WELLSTREAM_DASHBOARD_SERVICES).");
  return h("table", { id: "pipeline-table" },
    h("caption", null, `Checked ${when(pipeline.checked_at)}`),
    h("thead", null, h("tr", null, ["Service", "Ready", "Consumer lag", "Records", "Records/s"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", null, pipeline.services.map((s) =>
      h("tr", null,
        h("th", { scope: "row" }, s.name),
        h("td", { class: s.ready ? "ok" : "bad" }, s.ready ? "ready" : `not ready${s.error ? `: ${s.error}` : ` (${s.status})`}`),
        h("td", null, num(s.consumer_lag)),
        h("td", null, num(s.records_total)),
        h("td", null, num(s.throughput_per_s)),
      ))),
  );
}
