// cocalc-embed.js: put a gateway launch in a host page and drive the CoCalc inside it.
//
//   import { mount } from "https://gateway.example/static/cocalc-embed.js";
//   const cocalc = mount(document.getElementById("box"), { url: launchUrl });
//   await cocalc.ready();
//   await cocalc.open({ path: "work/notes.md" });
//
// Messages go only to the gateway's origin, are taken only from the gateway iframe, carry a
// namespace and a request id, and each call has a timeout.
import { BridgeError, Emitter, ErrorCode, deferred, errorFrom, exactOrigin, repeatWithBackoff } from "./messaging.js";

export { BridgeError, ErrorCode };

const NS = "cocalc-gateway";
let counter = 0;

function newId() {
  counter += 1;
  const random = Math.random().toString(36).slice(2);
  return `${Date.now().toString(36)}-${counter}-${random}`;
}

/**
 * Mount a launch in `target` (a container element, or an existing <iframe>).
 * `url`: the launch or embed URL. `token`: a signed launch token, POSTed to `url` so it never
 * appears in a URL. `timeout` (ms): for the handshake and each call.
 */
export function mount(target, { url, token, timeout = 20000 } = {}) {
  let iframe;
  if (target instanceof HTMLIFrameElement) {
    iframe = target;
  } else if (target instanceof Element) {
    iframe = document.createElement("iframe");
    iframe.title = "CoCalc";
    iframe.allow = "clipboard-read; clipboard-write; fullscreen";
    iframe.style.cssText = "width:100%;height:100%;border:0;";
    // A form can target the frame only if it has its name when it is created.
    iframe.name = `cocalc-gateway-${newId()}`;
    target.appendChild(iframe);
  } else {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "mount() needs a container element or an <iframe>");
  }
  const gatewayOrigin = exactOrigin(url || iframe.src, "url");
  const events = new Emitter(["ready", "project-log", "expired", "error"]);
  const pending = new Map();
  let connected = false;
  let destroyed = false;
  let stopHello = () => {};
  let waiters = deferred();

  function post(message) {
    if (iframe.contentWindow) iframe.contentWindow.postMessage({ namespace: NS, ...message }, gatewayOrigin);
  }

  function handshake() {
    connected = false;
    stopHello();
    stopHello = repeatWithBackoff(() => post({ type: "request", id: "hello", method: "hello" }),
      () => connected || destroyed, { first: 100, cap: 1000, deadline: Date.now() + timeout });
  }

  function request(method, params = {}, { timeout: limit = timeout, onAck } = {}) {
    if (destroyed) return Promise.reject(new BridgeError(ErrorCode.DESTROYED, "the embed was destroyed"));
    const id = newId();
    const job = { ...deferred(), onAck };
    job.timer = setTimeout(() => {
      pending.delete(id);
      job.reject(new BridgeError(ErrorCode.TIMEOUT, `no answer to '${method}' within ${limit} ms`));
    }, limit);
    pending.set(id, job);
    const send = () => { if (pending.has(id)) post({ type: "request", id, method, params }); };
    if (connected) send();
    else waiters.promise.then(send, () => {});
    return job.promise;
  }

  function onMessage(event) {
    if (destroyed || event.source !== iframe.contentWindow || event.origin !== gatewayOrigin) return;
    const message = event.data;
    if (!message || typeof message !== "object" || message.namespace !== NS) return;
    if (message.type === "response" && message.id === "hello") {
      if (!connected) {
        connected = true;
        waiters.resolve();
      }
      if (message.result && message.result.expired) events.emit("expired", {});
      return;
    }
    if (message.type === "event") {
      if (["ready", "project-log", "expired", "error"].includes(message.event)) events.emit(message.event, message.data);
      return;
    }
    const job = pending.get(message.id);
    if (!job) return;
    if (message.type === "progress") {
      if (message.stage === "ack" && job.onAck) job.onAck();
      return;
    }
    if (message.type === "response") {
      pending.delete(message.id);
      clearTimeout(job.timer);
      if (message.ok) job.resolve(message.result);
      else job.reject(errorFrom(message.error));
    }
  }

  function onLoad() {
    // Each page load (launch -> embed page, reloads) needs a new handshake.
    if (connected) waiters = deferred();
    handshake();
  }

  window.addEventListener("message", onMessage);
  iframe.addEventListener("load", onLoad);

  if (token) {
    // Submit the token into the iframe: it stays out of URLs, logs and history.
    if (!iframe.name) {
      iframe.name = `cocalc-gateway-${newId()}`;
      try { iframe.contentWindow.name = iframe.name; } catch (e) { /* cross-origin already */ }
    }
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
  } else if (url && iframe.src !== url) {
    iframe.src = url;
  }
  handshake();

  return {
    iframe,
    /** Resolve once the embedded CoCalc answers. */
    ready: (options) => request("ready", {}, options),
    /** Open a file of the launch's project; `project_id` may be left out. */
    open: ({ project_id, path } = {}, { onAck, timeout: limit } = {}) => {
      if (typeof path !== "string") return Promise.reject(new BridgeError(ErrorCode.INVALID_ARGUMENT, "path must be a string"));
      return request("open", { project_id, path, timeout: limit }, { onAck, timeout: limit ? limit + 1000 : timeout });
    },
    closeAll: (options) => request("closeAll", {}, options),
    status: (options) => request("status", {}, options),
    /** Listen to "ready", "project-log", "expired" or "error"; returns an unsubscribe function. */
    on: (name, callback) => events.on(name, callback),
    /** Stop listening; pending calls reject with DESTROYED. The iframe stays. */
    destroy() {
      if (destroyed) return;
      destroyed = true;
      stopHello();
      window.removeEventListener("message", onMessage);
      iframe.removeEventListener("load", onLoad);
      for (const job of pending.values()) {
        clearTimeout(job.timer);
        job.reject(new BridgeError(ErrorCode.DESTROYED, "the embed was destroyed"));
      }
      pending.clear();
      waiters.reject(new BridgeError(ErrorCode.DESTROYED, "the embed was destroyed"));
      events.clear();
    },
  };
}
