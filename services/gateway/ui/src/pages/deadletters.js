// @ts-check
// Dead letters (admin): counts by reason, each letter's reasons and payload, replay of
// the chosen ones after a confirmation.
import { get, post } from "../api.js";
import { field, h, num, when } from "../dom.js";

const PAGE = 100;

/** @param {HTMLElement} main @param {{navigate: (href: string) => void}} app */
export async function render(main, app) {
  const query = new URLSearchParams(location.search);
  const code = query.get("error_code") || "";
  const [page, reasons] = await Promise.all([
    get("/api/v1/dead-letters", { limit: PAGE, error_code: code, cursor: query.get("cursor") }),
    get("/api/v1/stats/dead-letters", { days: 3660 }),
  ]);
  const totals = new Map();
  for (const item of reasons.items) totals.set(item.error_code, (totals.get(item.error_code) || 0) + item.count);
  const filter = h("select", { name: "error_code", "aria-label": "Reason" },
    h("option", { value: "" }, "Every reason"),
    [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => h("option", { value: c, selected: c === code }, `${c} (${n})`)));
  filter.addEventListener("change", () => {
    const value = /** @type {HTMLSelectElement} */ (filter).value;
    app.navigate(value ? `/ui/dead-letters?error_code=${encodeURIComponent(value)}` : "/ui/dead-letters");
  });

  const status = h("p", { role: "status", "aria-live": "polite", id: "replay-status" });
  const replay = h("button", { type: "button", id: "replay", disabled: true }, "Replay selected…");
  const confirm = /** @type {HTMLDialogElement} */ (h("dialog", { id: "confirm-replay", "aria-labelledby": "confirm-title" }));
  const rows = page.items.map((/** @type {any} */ item) => letterRow(item));
  const boxes = () => /** @type {HTMLInputElement[]} */ ([...main.querySelectorAll("input[name=letter]:checked")]);
  main.addEventListener("change", () => {
    /** @type {HTMLButtonElement} */ (replay).disabled = boxes().length === 0;
  });
  replay.addEventListener("click", () => {
    const ids = boxes().map((b) => b.value);
    confirm.replaceChildren(
      h("h2", { id: "confirm-title" }, "Replay dead letters?"),
      h("p", null, `${ids.length} original message(s) go back to the raw topic and through validation again.`),
      h("form", { method: "dialog" },
        h("button", { value: "cancel", type: "submit" }, "Cancel"),
        h("button", { value: "replay", type: "submit", id: "confirm-replay-button" }, "Replay")),
    );
    confirm.onclose = async () => {
      if (confirm.returnValue !== "replay") return;
      const result = await post("/api/v1/dead-letters/replay", { ids });
      status.textContent = `Replayed ${result.replayed.length}; missing ${result.missing.length}.`;
    };
    confirm.showModal();
  });

  main.replaceChildren(
    h("h1", null, "Dead letters"),
    h("div", { class: "controls" }, field("Reason", filter), replay),
    status,
    h("table", { id: "dead-letters-table" },
      h("caption", null, `${page.items.length} dead letters${code ? ` with ${code}` : ""}, newest first`),
      h("thead", null, h("tr", null, ["Replay", "Failed at", "Stage", "Reasons", "Source", "Payload"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, rows)),
    page.next_cursor ? h("a", { href: `/ui/dead-letters?${new URLSearchParams({ error_code: code, cursor: page.next_cursor })}`, "data-link": true }, "Older") : "",
    confirm,
  );
}

/** @param {any} item */
function letterRow(item) {
  const source = item.source ? `${item.source.topic}[${item.source.partition}]@${num(item.source.offset)}` : item.line !== null ? `line ${item.line}` : "—";
  const payload = item.payload ?? (item.payload_base64 ? `(base64) ${item.payload_base64}` : "");
  return h("tr", null,
    h("td", null, h("input", { type: "checkbox", name: "letter", value: item.id, "aria-label": `Replay ${item.id}`, disabled: item.payload_truncated })),
    h("td", null, when(item.failed_at)),
    h("td", null, item.stage),
    h("td", null, h("ul", { class: "reasons" }, item.errors.map((/** @type {any} */ e) => h("li", null, h("code", null, e.code), ` ${e.field}: ${e.message}`)))),
    h("td", null, source),
    h("td", null, h("details", null, h("summary", null, "Payload"), h("pre", null, payload))),
  );
}
