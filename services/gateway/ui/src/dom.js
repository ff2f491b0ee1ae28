// @ts-check
// A small element builder, and formatting shared by the pages.

/**
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const NUMBER = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const SMALL = new Intl.NumberFormat("en", { maximumSignificantDigits: 3 });

/** @param {number | null | undefined} value */
export function num(value) {
  if (value === null || value === undefined) return "—";
  return Math.abs(value) < 10 && value !== 0 ? SMALL.format(value) : NUMBER.format(value);
}

/** @param {number | null | undefined} value */
export function pct(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
}

/** @param {string | null | undefined} iso */
export function when(iso) {
  return iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "—";
}

/** A definition list of label → value pairs. @param {[string, any][]} pairs */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]).flat());
}

/** A link the router takes over. @param {string} href @param {any} text */
export function link(href, text) {
  return h("a", { href, "data-link": true }, text);
}

/** @param {string} label @param {HTMLElement} control */
export function field(label, control) {
  return h("label", { class: "field" }, h("span", null, label), control);
}

/** @param {string} name @param {string} label @param {[string, string][]} options @param {string} value */
export function select(name, label, options, value) {
  const el = h("select", { name, "aria-label": label }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return /** @type {HTMLSelectElement} */ (el);
}
