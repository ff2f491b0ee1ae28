// @ts-check
// Upload: a CSV or JSON file dropped (or chosen), sent with a progress bar, then the
// ingestor's counts and the lines it rejected.
import { ApiFailure, get, upload } from "../api.js";
import { h, num } from "../dom.js";

const POLL_MS = 500;

/** @param {HTMLElement} main */
export async function render(main) {
  const input = /** @type {HTMLInputElement} */ (h("input", { type: "file", id: "file", name: "file", accept: ".csv,.json,.ndjson,text/csv,application/json" }));
  const zone = h("div", { class: "drop", id: "drop-zone" },
    h("p", null, "Drop a CSV or JSON file here, or "),
    h("label", { for: "file", class: "button" }, "choose a file"), input);
  const bar = /** @type {HTMLProgressElement} */ (h("progress", { id: "upload-progress", max: 100, value: 0, "aria-label": "Upload progress" }));
  const outcome = h("div", { id: "upload-outcome", "aria-live": "polite" });
  const send = async (/** @type {File} */ file) => {
    outcome.replaceChildren(h("p", null, `Sending ${file.name} (${num(file.size)} bytes)…`));
    bar.value = 0;
    try {
      const accepted = await upload(file, (sent, total) => {
        bar.value = total ? Math.round((sent / total) * 100) : 0;
      });
      bar.value = 100;
      await follow(accepted, outcome);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      outcome.replaceChildren(h("p", { class: "bad", role: "alert" }, `Refused: ${error.message}`));
    }
  };
  input.addEventListener("change", () => input.files?.[0] && send(input.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer?.files[0];
    if (file) void send(file);
  });
  main.replaceChildren(h("h1", null, "Upload"), zone, h("label", { for: "upload-progress" }, "Progress "), bar, outcome);
}

/** Polls the upload's status until the ingestor has read the whole file. @param {any} accepted @param {HTMLElement} outcome */
async function follow(accepted, outcome) {
  let status = accepted;
  while (status.status === "processing") {
    outcome.replaceChildren(h("p", null, `${accepted.filename}: ${accepted.format}, processing (${num(status.bytes_read || 0)} of ${num(accepted.bytes_total)} bytes)…`));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    status = await get(accepted.status_url);
  }
  /** @type {{line: number, errors: {field: string | null, code: string, message: string}[]}[]} */
  const explained = status.rejections || [];
  const why = new Map(explained.map((r) => [r.line, r.errors.map((e) => `${e.field ? `${e.field}: ` : ""}${e.message} (${e.code})`).join("; ")]));
  const rejected = status.rejected_lines || [];
  const unlisted = status.rejected - rejected.length;
  outcome.replaceChildren(
    h("p", { class: status.error ? "bad" : "ok", id: "upload-summary" },
      `${accepted.filename}: ${status.status}. ${num(status.accepted)} accepted, ${num(status.rejected)} rejected.`,
      status.error ? ` ${status.error}` : ""),
    rejected.length
      ? h("table", { id: "rejected-lines" },
          h("caption", null, `Rejected lines, the first ${num(why.size)} with their reasons (each line is also a dead letter)${unlisted > 0 ? `; ${num(unlisted)} more not listed` : ""}`),
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Line"), h("th", { scope: "col" }, "Why"))),
          h("tbody", null, rejected.map((/** @type {number} */ line) => h("tr", null, h("td", null, String(line)), h("td", null, why.get(line) || "rejected")))))
      : h("p", null, "Every line was accepted."),
  );
}
