// @ts-check
// The dashboard's shell: sign-in, the router over the deep links, and the ready mark
// the browser tests and the benchmark wait for.
import "./style.css";
import { AuthError, credential, signIn, signOut } from "./api.js";
import { h } from "./dom.js";
import * as deadLetters from "./pages/deadletters.js";
import * as field from "./pages/field.js";
import * as overview from "./pages/overview.js";
import * as upload from "./pages/upload.js";
import * as well from "./pages/well.js";
import * as wells from "./pages/wells.js";

/** @typedef {{navigate: (href: string) => void}} App */
/** @type {[RegExp, string, (main: HTMLElement, app: App, code: string) => Promise<void>][]} */
const ROUTES = [
  [/^\/(?:ui\/?)?$/, "Overview", overview.render],
  [/^\/ui\/wells\/?$/, "Wells", wells.render],
  [/^\/ui\/wells\/(.+)$/, "Well", well.render],
  [/^\/ui\/fields\/(.+)$/, "Field", field.render],
  [/^\/ui\/dead-letters\/?$/, "Dead letters", deadLetters.render],
  [/^\/ui\/upload\/?$/, "Upload", upload.render],
];

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
/** @type {App} */
const app = { navigate };
let shown = 0;

/** @param {string} href */
function navigate(href) {
  history.pushState(null, "", href);
  void show();
}

/** @param {string} [message] */
function signInForm(message) {
  nav.hidden = true;
  const input = h("input", { id: "api_key", name: "api_key", type: "password", required: true, autocomplete: "off" });
  const form = h("form", { id: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    message ? h("p", { class: "bad", role: "alert", id: "sign-in-message" }, message) : null,
    h("label", { for: "api_key" }, "API key or bearer token"),
    input,
    h("p", { class: "note" }, "Kept for this browser session only."),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(/** @type {HTMLInputElement} */ (input).value);
    void show();
  });
  main.replaceChildren(form);
  document.title = "Sign in · wellstream";
  input.focus();
  markReady("sign-in");
}

/** @param {string} page */
function markReady(page) {
  document.body.dataset.ready = page;
  performance.mark(`wellstream:ready:${page}`);
}

async function show() {
  const turn = ++shown;
  delete document.body.dataset.ready;
  if (!credential()) return signInForm();
  const path = decodeURI(location.pathname);
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  nav.hidden = false;
  for (const a of nav.querySelectorAll("a")) {
    const here = a.getAttribute("href") === location.pathname || (a.getAttribute("href") === "/ui/wells" && path.startsWith("/ui/wells"));
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!route) {
    main.replaceChildren(h("h1", null, "Not found"), h("p", null, `No page at ${path}.`));
    return markReady("not-found");
  }
  const [pattern, title, render] = route;
  const code = (pattern.exec(path) || [])[1] || "";
  document.title = `${code || title} · wellstream`;
  main.replaceChildren(h("p", { role: "status" }, "Loading…"));
  try {
    await render(main, app, code);
  } catch (error) {
    if (turn !== shown) return;
    if (error instanceof AuthError) {
      if (error.status === 401) signOut();
      return signInForm(error.message);
    }
    main.replaceChildren(h("h1", null, title), h("p", { class: "bad", role: "alert" }, `Could not load: ${error instanceof Error ? error.message : String(error)}`));
    return markReady("error");
  }
  if (turn !== shown) return;
  main.focus({ preventScroll: true });
  markReady(title.toLowerCase().replace(" ", "-"));
}

document.addEventListener("click", (event) => {
  const target = /** @type {Element} */ (event.target);
  const anchor = target.closest ? target.closest("a[data-link]") : null;
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(/** @type {HTMLAnchorElement} */ (anchor).href);
});
document.getElementById("sign-out")?.addEventListener("click", () => {
  signOut();
  navigate("/ui/");
});
window.addEventListener("popstate", () => void show());
void show();
