// cocalc-embed.js: put a gateway launch in a host page and drive the CoCalc inside it.
//
//   import { mount } from "https://gateway.example/static/cocalc-embed.js";
//   const cocalc = mount(document.getElementById("box"), { url: launchUrl, fetchLaunchUrl });
//   await cocalc.ready();
//   await cocalc.open({ path: "work/notes.md" });
//
// Messages go only to the gateway's origin, are taken only from the gateway iframe, carry a
// namespace and a request id, and each call has a timeout. The handshake has its own
// deadline and error code; ready() then waits for the embed page's own verdict (it knows
// how long CoCalc may take), so the two never disagree. With `fetchLaunchUrl` the embed
// renews itself before it expires, and after an expiry, without the user noticing.
import { BridgeError, Emitter, ErrorCode, cleanPath, deferred, errorFrom, exactOrigin, repeatWithBackoff } from "./messaging.js";

export { BridgeError, ErrorCode };

const NS = "cocalc-gateway";
const EVENTS = ["ready", "project-log", "expiring", "expired", "renewed", "opened-in-new-tab", "error"];
// A renewal starts this long before the launch expires (or at half its life, if sooner).
const RENEW_BEFORE_MS = 60000;
let counter = 0;

function newId() {
  counter += 1;
  const random = Math.random().toString(36).slice(2);
  return `${Date.now().toString(36)}-${counter}-${random}`;
}

function frameFor(target) {
  if (target instanceof HTMLIFrameElement) return target;
  if (!(target instanceof Element)) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "mount() needs a container element or an <iframe>");
  }
  const iframe = document.createElement("iframe");
  iframe.title = "CoCalc";
  iframe.allow = "clipboard-read; clipboard-write; fullscreen";
  iframe.style.cssText = "width:100%;height:100%;border:0;";
  // A form can target the frame only if it has its name when it is created.
  iframe.name = `cocalc-gateway-${newId()}`;
  target.appendChild(iframe);
  return iframe;
}

/** Load a launch into the frame: POST a signed token (it stays out of URLs), or set src. */
function load(iframe, { url, token }) {
  if (!token) {
    iframe.src = url;
    return;
  }
  if (!iframe.name) iframe.name = `cocalc-gateway-${newId()}`;
  const form = document.createElement("form");
  form.method = "POST";
  form.action = url;
  form.target = iframe.name;
  form.style.display = "none";
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = "token";
  input.value = token;
  form.appendChild(input);
  document.body.appendChild(form);
  form.submit();
  form.remove();
}

/** What fetchLaunchUrl() may return: a URL string, or {url, token}. */
function asLaunch(value) {
  if (typeof value === "string") return { url: value };
  if (value && typeof value.url === "string") return { url: value.url, token: value.token };
  throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "fetchLaunchUrl must return a URL or {url, token}");
}

/** One mounted launch: the handshake, requests and events, renewals. */
class Embed {
  constructor(iframe, { url, token, timeout, handshakeTimeout, fetchLaunchUrl }) {
    this.iframe = iframe;
    this.origin = exactOrigin(url || iframe.src, "url");
    this.timeout = timeout;
    this.handshakeTimeout = handshakeTimeout;
    this.fetchLaunchUrl = fetchLaunchUrl;
    this.events = new Emitter(EVENTS);
    this.pending = new Map();
    this.connected = false;
    this.destroyed = false;
    this.expiredOnce = false;
    this.page = null;            // the embed page's hello answer
    this.lastOpened = null;      // re-opened after a renewal
    this.renewTimer = null;
    this.renewing = false;
    this.stopHello = () => {};
    this.handshakeTimer = null;
    this.handshake = deferred();
    this.onMessage = this.onMessage.bind(this);
    this.onLoad = this.onLoad.bind(this);
    window.addEventListener("message", this.onMessage);
    iframe.addEventListener("load", this.onLoad);
    if (url && (token || iframe.src !== url)) load(iframe, { url, token });
    this.startHandshake();
  }

  post(message) {
    if (this.iframe.contentWindow) this.iframe.contentWindow.postMessage({ namespace: NS, ...message }, this.origin);
  }

  startHandshake() {
    this.connected = false;
    this.stopHello();
    clearTimeout(this.handshakeTimer);
    this.stopHello = repeatWithBackoff(() => this.post({ type: "request", id: "hello", method: "hello" }),
      () => this.connected || this.destroyed, { first: 50, steady: 3000, cap: 1000 });
    this.handshakeTimer = setTimeout(() => this.failHandshake(new BridgeError(ErrorCode.HANDSHAKE_TIMEOUT,
      `the gateway's page did not answer within ${this.handshakeTimeout} ms`)), this.handshakeTimeout);
  }

  failHandshake(error) {
    this.stopHello();
    clearTimeout(this.handshakeTimer);
    this.handshake.reject(error);
    for (const [id, job] of this.pending) {
      clearTimeout(job.timer);
      job.reject(error);
      this.pending.delete(id);
    }
  }

  connect(page) {
    this.connected = true;
    this.page = page;
    this.stopHello();
    clearTimeout(this.handshakeTimer);
    this.handshake.resolve(page);
    if (page.expired) this.onExpired();
    else this.scheduleRenewal(page);
  }

  /**
   * Send a request once the handshake is done. Its timeout runs from the call, unless
   * `afterHandshake` (ready()): then from the handshake, whose own deadline applies before.
   */
  request(method, params = {}, { timeout: limit = this.timeout, onAck, afterHandshake = false } = {}) {
    if (this.destroyed) return Promise.reject(new BridgeError(ErrorCode.DESTROYED, "the embed was destroyed"));
    const id = newId();
    const job = { ...deferred(), onAck };
    this.pending.set(id, job);
    const expire = () => {
      job.timer = setTimeout(() => {
        this.pending.delete(id);
        job.reject(new BridgeError(ErrorCode.TIMEOUT, `no answer to '${method}' within ${limit} ms`));
      }, limit);
    };
    if (!afterHandshake) expire();
    const send = () => {
      if (!this.pending.has(id)) return;
      if (afterHandshake) expire();
      this.post({ type: "request", id, method, params });
    };
    this.handshake.promise.then(send, (error) => {
      this.pending.delete(id);
      clearTimeout(job.timer);
      job.reject(error);
    });
    return job.promise;
  }

  onMessage(event) {
    if (this.destroyed || event.source !== this.iframe.contentWindow || event.origin !== this.origin) return;
    const message = event.data;
    if (!message || typeof message !== "object" || message.namespace !== NS) return;
    if (message.type === "response" && message.id === "hello") {
      if (!this.connected) this.connect(message.result || {});
      return;
    }
    if (message.type === "event") return this.onEvent(message.event, message.data);
    const job = this.pending.get(message.id);
    if (!job) return;
    if (message.type === "progress") {
      if (message.stage === "ack" && job.onAck) job.onAck();
      return;
    }
    if (message.type === "response") {
      this.pending.delete(message.id);
      clearTimeout(job.timer);
      if (message.ok) job.resolve(message.result);
      else job.reject(errorFrom(message.error));
    }
  }

  onEvent(name, data) {
    if (name === "expired") return this.onExpired();
    if (name === "error" && !this.connected && data && data.code) {
      // One of the gateway's error pages: the launch failed, and ready() says why at once.
      this.failHandshake(new BridgeError(ErrorCode.LAUNCH_FAILED, data.message || "the launch failed",
        { reason: data.code }));
    }
    if (EVENTS.includes(name)) this.events.emit(name, data);
  }

  onExpired() {
    if (this.fetchLaunchUrl) return this.renew();
    if (this.expiredOnce) return;
    this.expiredOnce = true;
    this.events.emit("expired", {});
  }

  onLoad() {
    // Each page load (launch -> embed page, reloads, renewals) needs a new handshake.
    if (this.connected) this.handshake = deferred();
    this.handshake.promise.catch(() => {});
    this.startHandshake();
  }

  scheduleRenewal(page) {
    clearTimeout(this.renewTimer);
    if (!this.fetchLaunchUrl || !page.expiresAt) return;
    const left = Date.parse(page.expiresAt) - Date.now();
    const lead = Math.min(RENEW_BEFORE_MS, left / 2);
    this.renewTimer = setTimeout(() => this.renew(), Math.max(0, Math.min(left - lead, 2 ** 31 - 1)));
  }

  async renew() {
    if (this.renewing || this.destroyed) return;
    this.renewing = true;
    clearTimeout(this.renewTimer);
    try {
      this.events.emit("expiring", {});
      const next = asLaunch(await this.fetchLaunchUrl());
      this.origin = exactOrigin(next.url, "url");
      this.connected = false;  // the next page answers this handshake
      this.handshake = deferred();
      this.handshake.promise.catch(() => {});
      load(this.iframe, next);
      await this.handshake.promise;
      await this.request("ready");
      if (this.lastOpened) await this.request("open", { path: this.lastOpened });
      this.events.emit("renewed", {});
    } catch (error) {
      this.events.emit("error", { code: error.code || ErrorCode.REMOTE_ERROR, message: error.message });
      if (!this.expiredOnce) {
        this.expiredOnce = true;
        this.events.emit("expired", {});
      }
    } finally {
      this.renewing = false;
    }
  }

  /** The embed page's own verdict, with a deadline past its own (it reports that). */
  async ready(options = {}) {
    const page = await this.handshake.promise;
    const limit = options.timeout ?? (page.readyTimeoutMs ? page.readyTimeoutMs + 5000 : this.timeout);
    return this.request("ready", {}, { timeout: limit, afterHandshake: true });
  }

  open({ project_id, path } = {}, { onAck, timeout: limit } = {}) {
    let clean;
    try {
      clean = cleanPath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    const wait = limit ? limit + 1000 : this.timeout;
    return this.request("open", { project_id, path: clean, timeout: limit }, { onAck, timeout: wait })
      .then((done) => { this.lastOpened = clean; return done; });
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stopHello();
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.renewTimer);
    window.removeEventListener("message", this.onMessage);
    this.iframe.removeEventListener("load", this.onLoad);
    const error = new BridgeError(ErrorCode.DESTROYED, "the embed was destroyed");
    for (const job of this.pending.values()) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    this.pending.clear();
    this.handshake.reject(error);
    this.events.clear();
  }
}

/**
 * Mount a launch in `target` (a container element, or an existing <iframe>).
 * `url`: the launch or embed URL. `token`: a signed launch token, POSTed to `url` so it never
 * appears in a URL. `fetchLaunchUrl`: () => Promise<url | {url, token}> for a fresh launch,
 * used to renew the embed before it expires. `timeout` (ms): each call; `handshakeTimeout`
 * (ms): how long the gateway's page may take to answer at all (a cold launch included).
 */
export function mount(target, { url, token, fetchLaunchUrl, timeout = 20000, handshakeTimeout = 45000 } = {}) {
  if (fetchLaunchUrl !== undefined && typeof fetchLaunchUrl !== "function") {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "fetchLaunchUrl must be a function");
  }
  const embed = new Embed(frameFor(target), { url, token, timeout, handshakeTimeout, fetchLaunchUrl });
  embed.handshake.promise.catch(() => {});
  return {
    iframe: embed.iframe,
    /** Resolve once the embedded CoCalc answers (the embed page decides how long it waits). */
    ready: (options) => embed.ready(options),
    /** Open a file of the launch's project (`project_id` may be left out); resolves with
     * CoCalc's "done" reply. */
    open: (file, options) => embed.open(file, options),
    closeAll: (options) => embed.request("closeAll", {}, options),
    status: (options) => embed.request("status", {}, options),
    /** Renew now (needs fetchLaunchUrl). */
    renew: () => embed.renew(),
    /** Listen to one of the events; returns an unsubscribe function. */
    on: (name, callback) => embed.events.on(name, callback),
    /** Stop listening; pending calls reject with DESTROYED. The iframe stays. */
    destroy: () => embed.destroy(),
  };
}
