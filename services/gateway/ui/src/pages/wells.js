// @ts-check
// Wells: search, filters and order in the address (deep-linkable), pages by cursor; the
// whole list is ordered by the server, by any column but the fields.
import { codePath, get } from "../api.js";
import { field, h, link } from "../dom.js";

const PAGE = 50;
// [the API's sort (null: not sortable), label]
const COLUMNS = /** @type {const} */ ([
  ["well_code", "Code"],
  ["well_name", "Name"],
  [null, "Fields"],
  ["operator", "Operator"],
  ["well_status", "Status"],
  ["first_period", "First"],
  ["last_period", "Last"],
]);
const FILTERS = ["q", "field_code", "operator", "basin"];

/** @param {HTMLElement} main @param {{navigate: (href: string) => void}} app */
export async function render(main, app) {
  const query = new URLSearchParams(location.search);
  const params = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  const asked = query.get("sort");
  const sort = COLUMNS.some(([key]) => key !== null && key === asked) ? String(asked) : "well_code";
  const descending = query.get("order") === "desc";
  const order = descending ? "desc" : "asc";
  const page = await get("/api/v1/wells", { ...params, sort, order, limit: PAGE, cursor: query.get("cursor") });
  const rows = page.items;

  const form = h("form", { class: "filters", role: "search", "aria-label": "Find wells" },
    field("Search", h("input", { name: "q", type: "search", value: params.q, placeholder: "code, name or reference" })),
    field("Field", h("input", { name: "field_code", value: params.field_code })),
    field("Operator", h("input", { name: "operator", value: params.operator })),
    field("Basin", h("input", { name: "basin", value: params.basin })),
    h("button", { type: "submit" }, "Find"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (form));
    const next = new URLSearchParams();
    for (const name of FILTERS) if (data.get(name)) next.set(name, String(data.get(name)));
    for (const name of ["sort", "order"]) if (query.get(name)) next.set(name, String(query.get(name)));
    app.navigate(`/ui/wells?${next}`);
  });

  /** @param {Record<string, string | null>} changes */
  const href = (changes) => {
    const next = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) v === null ? next.delete(k) : next.set(k, v);
    return `/ui/wells?${next}`;
  };
  const header = COLUMNS.map(([key, label]) => {
    if (key === null) return h("th", { scope: "col" }, label);
    const active = key === sort;
    const next = active && !descending ? "desc" : "asc";
    return h("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : "none" },
      // a new order starts from the first page: a cursor serves one order
      link(href({ sort: key, order: next, cursor: null }), `${label}${active ? (descending ? " ▼" : " ▲") : ""}`));
  });
  const body = rows.map((w) => h("tr", null,
    h("td", null, link(`/ui/wells/${codePath(w.well_code)}`, w.well_code)),
    h("td", null, w.well_name || ""),
    h("td", null, w.field_codes.map((/** @type {string} */ f, /** @type {number} */ i) => [i ? ", " : "", link(`/ui/fields/${codePath(f)}`, f)]).flat()),
    h("td", null, w.operator || ""),
    h("td", null, w.well_status || ""),
    h("td", null, w.first_period || ""),
    h("td", null, w.last_period || ""),
  ));
  const pager = h("nav", { class: "pager", "aria-label": "Pages of wells" },
    query.get("cursor") ? link(href({ cursor: null }), "First page") : null,
    page.next_cursor ? link(href({ cursor: page.next_cursor }), "Next page") : null,
  );
  main.replaceChildren(
    h("h1", null, "Wells"),
    form,
    h("table", { id: "wells-table" },
      h("caption", null, `${rows.length} wells on this page; the whole list ordered by ${label(sort)}`),
      h("thead", null, h("tr", null, header)),
      h("tbody", null, body)),
    pager,
  );
}

/** @param {string} sort */
function label(sort) {
  return (COLUMNS.find(([key]) => key === sort) ?? [sort, sort])[1].toLowerCase();
}
