// The gateway's embed page: sign CoCalc in, open the file through the bridge, show what went
// wrong if CoCalc never answers, and relay the host page's commands (allowed origins only).
import { connect, BridgeError, ErrorCode } from "./cocalc-bridge.js";

const NS = "cocalc-gateway";
const settings = JSON.parse(document.getElementById("settings").textContent);
const kiosk = document.getElementById("cocalc");
const signIn = document.getElementById("cocalc-sign-in");
const loading = document.getElementById("loading");
const problem = document.getElementById("problem");
const framed = window.parent !== window;
let expired = false;

const bridge = connect(kiosk, { origin: settings.cocalcOrigin, timeout: settings.readyTimeoutMs });

function notifyHost(event, data) {
  if (!framed) return;
  // Never "*": the browser delivers this only if the parent is one of the host's origins.
  for (const origin of settings.hostOrigins) {
    window.parent.postMessage({ namespace: NS, type: "event", event, data }, origin);
  }
}

function show(element, title, text, reasons = []) {
  loading.hidden = true;
  problem.hidden = element !== problem;
  if (element !== problem) return;
  document.getElementById("problem-title").textContent = title;
  document.getElementById("problem-text").textContent = text;
  const list = document.getElementById("problem-reasons");
  list.replaceChildren(...reasons.map((reason) => {
    const item = document.createElement("li");
    item.textContent = reason;
    return item;
  }));
  document.body.dataset.state = "problem";
}

function explain(error) {
  if (error.code === ErrorCode.REMOTE_ERROR) {
    return show(problem, "CoCalc could not open the file", `CoCalc said: ${error.mesg || error.message}`);
  }
  const reasons = [
    `CoCalc's site setting iframe_comm_hosts must list this gateway's host name (${window.location.hostname}).`,
    "CoCalc answers only pages served over https on port 443" +
      (window.location.protocol !== "https:" || window.location.port ? `; this page is ${window.location.origin}.` : "."),
    "CoCalc's sign-in cookie must be allowed in a cross-site frame (CoCalc's samesite_remember_me set to none), " +
      "unless the host site, the gateway and CoCalc share one site.",
  ];
  show(problem, "CoCalc did not answer", "The embedded CoCalc page never replied. This usually means:", reasons);
}

async function start() {
  document.body.dataset.state = "loading";
  try {
    await bridge.ready();
    notifyHost("ready", { projectId: settings.projectId });
    if (settings.path) {
      await bridge.open({ project_id: settings.projectId, path: settings.path }, { timeout: settings.openTimeoutMs });
    }
    show(null);
    document.body.dataset.state = "open";
  } catch (error) {
    if (!expired && error.code !== ErrorCode.DESTROYED) explain(error);
  }
}

function expire() {
  expired = true;
  bridge.destroy();
  kiosk.remove();
  show(problem, "This session has expired", "Reload the page you came from to continue.");
  document.getElementById("problem-retry").hidden = true;
  document.body.dataset.state = "expired";
  notifyHost("expired", {});
}

// The current CoCalc API signs in only through /auth/impersonate, in the hidden frame; its
// response sets CoCalc's cookie, then the kiosk page can load without a token. The frame gets
// its URL only here, after the listener is in place, so its load cannot be missed.
if (signIn) {
  signIn.addEventListener("load", () => {
    signIn.remove();  // it goes on to load CoCalc's whole app: not needed
    kiosk.src = kiosk.dataset.src;
    fetch(settings.signedInUrl, { method: "POST", keepalive: true }).catch(() => {});
  }, { once: true });
  signIn.src = signIn.dataset.src;
}

document.getElementById("problem-retry").addEventListener("click", () => window.location.reload());
document.getElementById("problem-show").addEventListener("click", () => show(null));
const remaining = Date.parse(settings.expiresAt) - Date.now();
setTimeout(expire, Math.max(0, Math.min(remaining, 2 ** 31 - 1)));
bridge.on("project-log", (entry) => notifyHost("project-log", entry));
bridge.on("error", (error) => notifyHost("error", { code: error.code, message: error.message }));
start();

// -- relay: the host page drives CoCalc through this page --------------------------------------
async function handle(method, params) {
  if (method === "hello") return { expired, ready: bridge.isReady, projectId: settings.projectId, path: settings.path };
  if (expired) throw new BridgeError(ErrorCode.NOT_READY, "the launch has expired");
  switch (method) {
    case "ready":
      await bridge.ready();
      return { projectId: settings.projectId };
    case "open": {
      const projectId = params.project_id ?? settings.projectId;
      if (projectId !== settings.projectId) {
        throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "this page can open files of its own project only");
      }
      return bridge.open({ project_id: projectId, path: params.path }, {
        timeout: params.timeout, onAck: params.ack ? params.ack : undefined,
      });
    }
    case "closeAll":
      return bridge.closeAll({ timeout: params.timeout });
    case "status":
      return bridge.status({ timeout: params.timeout });
    default:
      throw new BridgeError(ErrorCode.INVALID_ARGUMENT, `unknown method '${method}'`);
  }
}

window.addEventListener("message", async (event) => {
  if (!framed || event.source !== window.parent || !settings.hostOrigins.includes(event.origin)) return;
  const message = event.data;
  if (!message || message.namespace !== NS || message.type !== "request" || typeof message.id !== "string") return;
  const reply = (body) => window.parent.postMessage({ namespace: NS, type: "response", id: message.id, ...body }, event.origin);
  const params = message.params && typeof message.params === "object" ? { ...message.params } : {};
  if (message.method === "open") {
    params.ack = () => window.parent.postMessage({ namespace: NS, type: "progress", id: message.id, stage: "ack" }, event.origin);
  }
  try {
    reply({ ok: true, result: await handle(message.method, params) });
  } catch (error) {
    reply({ ok: false, error: { code: error.code || ErrorCode.REMOTE_ERROR, message: error.message, mesg: error.mesg } });
  }
});
