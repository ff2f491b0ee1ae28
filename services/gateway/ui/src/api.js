// @ts-check
// Requests to the gateway, same origin, with the key of this browser session.

const STORE = "wellstream.key";
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** 401 or 403: the page goes back to the sign-in form with this message. */
export class AuthError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Any other refusal, with the API's own message. */
export class ApiFailure extends Error {
  /** @param {number} status @param {string} message @param {any} body */
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** @returns {string | null} */
export function credential() {
  return sessionStorage.getItem(STORE);
}

/** @param {string} key */
export function signIn(key) {
  sessionStorage.setItem(STORE, key.trim());
}

export function signOut() {
  sessionStorage.removeItem(STORE);
}

/** A JWT goes as a bearer token, anything else as an API key. @returns {Record<string, string>} */
export function authHeaders() {
  const key = credential();
  if (!key) return {};
  return JWT.test(key) ? { Authorization: `Bearer ${key}` } : { "X-API-Key": key };
}

/** A code as a path: each segment escaped, the slashes of Norwegian codes kept. @param {string} code */
export function codePath(code) {
  return code.split("/").map(encodeURIComponent).join("/");
}

/** @param {string} path @param {Record<string, string | number | boolean | null | undefined>} [params] */
export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** @param {Response} response */
async function failure(response) {
  /** @type {any} */
  const body = await response.json().catch(() => null);
  const message = (body && body.message) || `${response.status} ${response.statusText}`;
  if (response.status === 401) return new AuthError(401, `Sign-in needed: ${message}`);
  if (response.status === 403) return new AuthError(403, `This key may not do that: ${message}`);
  return new ApiFailure(response.status, message, body);
}

/** @param {string} path @param {RequestInit} [init] */
export async function request(path, init = {}) {
  const headers = { Accept: "application/json", ...authHeaders(), ...(init.headers || {}) };
  const response = await fetch(path, { ...init, headers });
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

/** @param {string} path @param {Record<string, any>} [params] */
export function get(path, params) {
  return request(url(path, params));
}

/** @param {string} path @param {any} body */
export function post(path, body) {
  return request(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
}

/** Every page of a list, following `next_cursor`. @param {string} path @param {Record<string, any>} [params] */
export async function getAll(path, params = {}) {
  /** @type {any[]} */
  const items = [];
  let cursor = null;
  /** @type {any} */
  let first = null;
  do {
    const page = await get(path, { ...params, cursor });
    first = first || page;
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return { ...first, items, next_cursor: null };
}

/**
 * A file posted as the form field `file`, with upload progress (fetch reports none).
 * @param {File} file @param {(sent: number, total: number) => void} progress
 * @returns {Promise<any>}
 */
export function upload(file, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/uploads");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => progress(event.loaded, event.total || file.size);
    xhr.onerror = () => reject(new ApiFailure(0, "the upload was interrupted", null));
    xhr.onload = () => {
      const body = parsed(xhr.responseText);
      const message = (body && body.message) || `${xhr.status} ${xhr.statusText}`;
      if (xhr.status === 401 || xhr.status === 403) reject(new AuthError(xhr.status, message));
      else if (xhr.status >= 400) reject(new ApiFailure(xhr.status, message, body));
      else resolve(body);
    };
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/** @param {string} text @returns {any} */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
