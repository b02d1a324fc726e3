// Shared pieces of the gateway's two postMessage clients (cocalc-bridge.js, cocalc-embed.js).
// An ES module without a build step.

/** Error codes every promise of the bridge and the embed API may reject with. */
export const ErrorCode = Object.freeze({
  TIMEOUT: "TIMEOUT",
  REMOTE_ERROR: "REMOTE_ERROR",
  DESTROYED: "DESTROYED",
  NOT_READY: "NOT_READY",
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  // cocalc-embed.js: the gateway's page never answered the handshake (the launch did not
  // reach it: an error page that is not the gateway's, a network failure, a blocked frame).
  HANDSHAKE_TIMEOUT: "HANDSHAKE_TIMEOUT",
  // cocalc-embed.js: the launch failed with one of the gateway's error pages; `reason` is
  // its code (e.g. "unauthorized", "expired", "cocalc_unavailable").
  LAUNCH_FAILED: "LAUNCH_FAILED",
});

/** A typed error: `code` is one of ErrorCode, `mesg` is CoCalc's text for REMOTE_ERROR. */
export class BridgeError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = "BridgeError";
    this.code = code;
    Object.assign(this, details);
  }
}

/** Turn `{code, message, ...}` (from a relayed reply) back into a BridgeError. */
export function errorFrom(data) {
  const code = Object.values(ErrorCode).includes(data && data.code) ? data.code : ErrorCode.REMOTE_ERROR;
  const { code: _c, message, ...details } = data || {};
  return new BridgeError(code, message || "remote error", details);
}

/** The exact origin of an absolute URL, or throw INVALID_ARGUMENT. */
export function exactOrigin(value, what) {
  let url;
  try {
    url = new URL(value, window.location.href);
  } catch (e) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, `${what} must be a URL or origin`);
  }
  if (url.origin === "null" || !/^https?:$/.test(url.protocol)) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, `${what} must be an http(s) origin`);
  }
  return url.origin;
}

/** A promise with its resolve/reject exposed. */
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});  // callers attach their own handlers; avoid unhandled noise
  return { promise, resolve, reject };
}

/**
 * Call `send` now and again with capped exponential backoff until `isDone()` or `deadline`.
 * Returns a function that stops the schedule.
 */
export function repeatWithBackoff(send, isDone, { first = 100, cap = 2000, deadline = Infinity, steady = 0 } = {}) {
  // For `steady` ms the interval stays at `first`: the other side usually appears within
  // that time, and a doubling interval would leave it waiting for the next send (a page
  // that starts listening just after a send waited up to half the current interval).
  const steadyUntil = Date.now() + steady;
  let delay = first;
  let timer = null;
  let stopped = false;
  const tick = () => {
    if (stopped || isDone() || Date.now() >= deadline) return;
    send();
    timer = setTimeout(tick, delay);
    if (Date.now() >= steadyUntil) delay = Math.min(cap, delay * 2);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

/** A tiny event emitter whose `on` returns an unsubscribe function. */
export class Emitter {
  constructor(names) {
    this.handlers = new Map(names.map((n) => [n, new Set()]));
  }
  on(name, callback) {
    const set = this.handlers.get(name);
    if (!set) throw new BridgeError(ErrorCode.INVALID_ARGUMENT, `unknown event '${name}'`);
    if (typeof callback !== "function") throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "callback must be a function");
    set.add(callback);
    return () => set.delete(callback);
  }
  emit(name, value) {
    for (const callback of this.handlers.get(name) || []) {
      try { callback(value); } catch (e) { setTimeout(() => { throw e; }); }
    }
  }
  clear() {
    for (const set of this.handlers.values()) set.clear();
  }
}

const MAX_PATH = 4096;
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/;

/**
 * A project-relative path, with the gateway's rules for launches (gateway/ways_in/request.py:
 * clean_path; tests/data/paths.json holds the cases both must agree on): no absolute paths,
 * no "~", "\\" or "..", no NUL, control characters or lone surrogates; "." and empty
 * segments are dropped. Throws INVALID_ARGUMENT.
 */
export function cleanPath(path) {
  if (typeof path !== "string") throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "path must be a string");
  if (path.length > MAX_PATH) throw new BridgeError(ErrorCode.INVALID_ARGUMENT, `path is longer than ${MAX_PATH} characters`);
  if (CONTROL.test(path) || LONE_SURROGATE.test(path)) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "path contains NUL or control characters");
  }
  if (path.startsWith("/") || path.startsWith("~") || path.includes("\\")) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "path must be relative to the project's home folder");
  }
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "path must not contain '..'");
  return segments.join("/");
}

/**
 * The origin of the page that frames this one, once it is known to be one of `allowed`
 * (the host's origins): at once from `location.ancestorOrigins` where the browser has it,
 * else from the first message the parent sends from an allowed origin (the host SDK's
 * handshake). Resolves null when the parent is not allowed. Posting only there keeps the
 * host page's console free of a postMessage error for every other origin of the host.
 */
export function parentOrigin(allowed) {
  if (window.parent === window) return Promise.resolve(null);
  const ancestors = window.location.ancestorOrigins;
  if (ancestors && ancestors.length) {
    return Promise.resolve(allowed.includes(ancestors[0]) ? ancestors[0] : null);
  }
  if (allowed.length === 1) return Promise.resolve(allowed[0]);  // no other origin to miss
  return new Promise((resolve) => {
    window.addEventListener("message", function heard(event) {
      if (event.source !== window.parent || !allowed.includes(event.origin)) return;
      window.removeEventListener("message", heard);
      resolve(event.origin);
    });
  });
}

/**
 * A message of the page in its language: `messages` is the page's catalogue (the server
 * fills it from its gettext catalogues), `values` fill its `%(name)s` places.
 */
export function translate(messages, key, values = {}) {
  const text = messages && typeof messages[key] === "string" ? messages[key] : key;
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}
