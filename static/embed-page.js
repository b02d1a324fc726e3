// The gateway's embed page: sign CoCalc in, open the file through the bridge, say honestly
// what went wrong, and relay the host page's commands (allowed origins only).
import { connect, BridgeError, ErrorCode } from "./cocalc-bridge.js";
import { cleanPath, parentOrigin, translate } from "./messaging.js";

const NS = "cocalc-gateway";
const settings = JSON.parse(document.getElementById("settings").textContent);
// The page's messages in its language (from the gateway's catalogues).
const t = (key, values) => translate(settings.messages, key, values);
const kiosk = document.getElementById("cocalc");
const loading = document.getElementById("loading");
const problem = document.getElementById("problem");
const notice = document.getElementById("notice");
const offer = document.getElementById("offer");
const moved = document.getElementById("moved");
const framed = window.parent !== window;
// Where a framed sign-in "might" work (the browser decides), the page waits for its
// progress: CoCalc answering and the file opening is a sign-in that worked; CoCalc silent
// until the bridge's timeout, or an open that does not complete in its first attempt (the
// kiosk waits at its sign-in screen), is one that did not: the new tab is offered then.
let signInMightFail = false;
let offered = false;
let expired = false;
let reportedSignIn = false;

const bridge = connect(kiosk, { origin: settings.cocalcOrigin, timeout: settings.readyTimeoutMs });

// The framing page's origin, once known to be one of the host's (see parentOrigin).
const hostOrigin = parentOrigin(settings.hostOrigins);

function notifyHost(event, data) {
  if (!framed) return;
  // Never "*", and only to the framing page's own origin.
  hostOrigin.then((origin) => {
    if (origin) window.parent.postMessage({ namespace: NS, type: "event", event, data }, origin);
  });
}

function setState(name) {
  document.body.dataset.state = name;
  // A User Timing mark per state ("cocalc-gateway:open" when the file is open): what the
  // browser benchmark measures, and what a site's own real-user monitoring can read.
  performance.mark(`cocalc-gateway:${name}`);
}

/**
 * A state's message takes the keyboard focus when the user is on this page (a screen reader
 * reads it, and Tab goes on from it to its buttons); when the user is elsewhere on the host's
 * page, focus stays there and the message's live region (status or alert) announces it.
 */
function focusMessage(overlay) {
  if (!document.hasFocus()) return;
  overlay.querySelector(".box")?.focus({ preventScroll: true });
}

/** Show the problem overlay; `actions` lists the buttons it offers ("retry", "show"). */
function showProblem(state, title, text, { reasons = [], actions = ["retry", "show"] } = {}) {
  loading.hidden = true;
  problem.hidden = false;
  document.getElementById("problem-title").textContent = title;
  document.getElementById("problem-text").textContent = text;
  document.getElementById("problem-reasons").replaceChildren(...reasons.map((reason) => {
    const item = document.createElement("li");
    item.textContent = reason;
    return item;
  }));
  document.getElementById("problem-retry").hidden = !actions.includes("retry");
  document.getElementById("problem-show").hidden = !actions.includes("show");
  setState(state);
  focusMessage(problem);
}

function showCoCalc() {
  // Focus on a message that goes away would fall to nowhere: it goes to the notebook.
  const hadFocus = document.activeElement?.closest(".overlay");
  loading.hidden = true;
  problem.hidden = true;
  offer.hidden = true;
  if (hadFocus && document.hasFocus()) kiosk.focus({ preventScroll: true });
}

/**
 * Whether CoCalc's sign-in cookie reaches a CoCalc frame here: "works", "might" or "cannot"
 * (the server worked it out from the sites and CoCalc's cookie policy). The top-level
 * origin comes from ancestorOrigins where the browser has it; else from the host's origins.
 */
function cookieVerdict() {
  if (!framed) return settings.cookies.topLevel;
  const ancestors = window.location.ancestorOrigins;
  const top = ancestors && ancestors.length ? ancestors[ancestors.length - 1] : null;
  if (top && settings.cookies.framed[top]) return settings.cookies.framed[top];
  const all = Object.values(settings.cookies.framed);
  return all.length && all.every((v) => v === all[0]) ? all[0] : "might";
}

// -- the new tab's one-time tickets ----------------------------------------------------------
// The new tab is a top-level form post, which this frame's (partitioned) binding cookie does
// not reach: each form carries a ticket that the page asked for as one of its own actions
// (the gateway hands tickets to this page's browser only). They live 10 minutes: a form
// that shows gets a fresh one before that. A page no cookie reaches came with its tickets.
const TICKET_REFRESH_MS = 5 * 60 * 1000;
const ticketForms = [...document.querySelectorAll("form[target=_blank]")];

async function freshTicket(form) {
  if (settings.once || !settings.newTab) return;
  const field = form.querySelector("input[name=ticket]");
  const reply = await fetch(settings.newTab.ticketUrl, { method: "POST", headers: { Accept: "application/json" } });
  if (reply.ok) field.value = (await reply.json()).ticket;
}

function keepTicketsFresh() {
  for (const form of ticketForms) freshTicket(form).catch(() => {});
}

if (!settings.once && settings.newTab) setInterval(() => {
  if (!offer.hidden || !moved.hidden) keepTicketsFresh();
}, TICKET_REFRESH_MS);

function showOffer() {
  if (expired || ["open", "moved"].includes(document.body.dataset.state)) return;
  keepTicketsFresh();
  loading.hidden = true;
  problem.hidden = true;
  offer.hidden = false;
  setState("offer");
  focusMessage(offer);
  notifyHost("error", { code: "SIGN_IN_BLOCKED", message: "the browser blocks CoCalc's cookie in this frame" });
}

// -- a full-window launch (LTI): where a framed sign-in cannot work, ask the LMS first ------
const FULL_WINDOW = "lti.requestFullWindowLaunch";
const CAPABILITIES_WAIT_MS = 1000;
// After asking, the LMS navigates away; if it has not within this time, offer the new tab.
const FULL_WINDOW_WAIT_MS = 3000;
let askedFullWindow = false;

/** Whether the LMS framing this page takes lti.requestFullWindowLaunch: it lists it in its
 *  lti.capabilities answer (1EdTech platform storage), or it is Canvas, which documents it. */
async function platformTakesFullWindow(origin) {
  const id = `cap-${Math.random().toString(36).slice(2)}`;
  const listed = await new Promise((resolve) => {
    const timer = setTimeout(() => { window.removeEventListener("message", listen); resolve(null); }, CAPABILITIES_WAIT_MS);
    function listen(event) {
      const data = event.data;
      if (event.source !== window.parent || event.origin !== origin) return;
      if (!data || data.subject !== "lti.capabilities.response" || data.message_id !== id) return;
      clearTimeout(timer);
      window.removeEventListener("message", listen);
      const messages = Array.isArray(data.supported_messages) ? data.supported_messages : [];
      resolve(messages.some((m) => m && m.subject === FULL_WINDOW));
    }
    window.addEventListener("message", listen);
    window.parent.postMessage({ subject: "lti.capabilities", message_id: id }, origin);
  });
  return listed === true || settings.fullWindow.canvas;
}

/** Ask the LMS to launch this notebook at top level; false when it cannot be asked. */
async function askFullWindow() {
  const origin = await hostOrigin;
  if (!origin || !(await platformTakesFullWindow(origin))) return false;
  let url = settings.fullWindow.url;  // a page no cookie reaches came with it
  if (!url) {
    const reply = await fetch(settings.fullWindow.requestUrl, { method: "POST", headers: { Accept: "application/json" } });
    if (!reply.ok) return false;
    url = (await reply.json()).url;
  }
  // To the framing LMS's own origin only: the URL names this page's file.
  window.parent.postMessage({ subject: FULL_WINDOW, data: { url, launchType: settings.fullWindow.launchType } }, origin);
  loading.querySelector("p").textContent = t("fullWindow");
  return true;
}

/** The new-tab verdict: a framed LTI page asks the LMS for the full window first. */
function offerNewTab() {
  if (!settings.fullWindow || askedFullWindow || !framed) return showOffer();
  askedFullWindow = true;
  askFullWindow().catch(() => false).then((asked) => {
    if (asked) setTimeout(showOffer, FULL_WINDOW_WAIT_MS);
    else showOffer();
  });
}

function openedInNewTab() {
  offer.hidden = true;
  problem.hidden = true;
  loading.hidden = true;
  moved.hidden = false;
  setState("moved");
  focusMessage(moved);
  notifyHost("opened-in-new-tab", {});
}

/** A thin bar over the notebook: what the page knows, without hiding CoCalc. */
function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
}

function settingsReasons() {
  const page = window.location;
  return [
    t("reasonCommHosts", { host: page.hostname }),
    page.protocol !== "https:" || page.port ? t("reasonHttpsHere", { origin: page.origin }) : t("reasonHttps"),
    t("reasonCookie"),
  ];
}

/** Say what went wrong, from what the page really knows. */
function explain(error) {
  if (error.code === ErrorCode.REMOTE_ERROR) {
    return showProblem("problem", t("couldNotOpenTitle"), t("cocalcSaid", { message: error.mesg || error.message }));
  }
  if (bridge.hasAnswered) {
    return showProblem("problem", t("didNotOpenTitle"), t("didNotOpenText"));
  }
  if (settings.dialect === "v1") {
    // API v1 builds open the file from the URL: CoCalc is shown, it just takes no commands.
    showCoCalc();
    setState("silent");
    return showNotice(t("silent"));
  }
  showProblem("problem", t("noAnswerTitle"), t("noAnswerText"), { reasons: settingsReasons() });
}

function reportSignedIn() {
  if (reportedSignIn || !settings.signedInUrl) return;
  reportedSignIn = true;
  fetch(settings.signedInUrl, { method: "POST", keepalive: true }).catch(() => {});
}

function requestStart() {
  return fetch(settings.startUrl, { method: "POST" }).catch(() => {});
}

/**
 * Open the file; when CoCalc answered but the file does not open in time (a project whose
 * start was interrupted never opens one), ask the gateway to start the project again and
 * try once more, until the page's open timeout.
 */
async function openWithRestarts() {
  const deadline = Date.now() + settings.openTimeoutMs;
  const file = { project_id: settings.projectId, path: settings.path };
  for (;;) {
    const limit = Math.max(1000, Math.min(settings.openAttemptMs, deadline - Date.now()));
    try {
      return await bridge.open(file, { timeout: limit });
    } catch (error) {
      if (error.code !== ErrorCode.TIMEOUT || Date.now() + 1000 >= deadline) throw error;
      if (signInMightFail && !offered) {  // and keep trying: if it opens, the offer goes
        offered = true;
        offerNewTab();
      }
      await requestStart();
    }
  }
}

async function start() {
  setState("loading");
  try {
    await bridge.ready();
    notifyHost("ready", { projectId: settings.projectId });
    if (settings.path) {
      await openWithRestarts();
      reportSignedIn();  // a file of the user's project opened: positive proof of the sign-in
    }
    showCoCalc();
    setState("open");
  } catch (error) {
    if (!expired && error.code !== ErrorCode.DESTROYED) {
      if (signInMightFail) offerNewTab();  // the sign-in the browser decides did not come
      else explain(error);
      notifyHost("error", { code: error.code, message: error.message });
    }
  }
}

function expire() {
  if (expired) return;
  expired = true;
  bridge.destroy();
  kiosk.remove();
  notice.hidden = true;
  showProblem("expired", t("expiredTitle"), t("expiredText"), { actions: [] });
  notifyHost("expired", {});
}

// Login CSRF: a page that is not framed signs in only where the gateway allowed it (a launch
// the host's page or the gateway itself started at top level). The server checks this with
// Fetch Metadata; this check covers browsers that send none.
if (!framed && !settings.topLevel) {
  bridge.destroy();
  kiosk.remove();
  showProblem("refused", t("refusedTitle"), t("refusedText"), { actions: [] });
  throw new Error("not framed: no sign-in");
}

for (const form of ticketForms) {
  form.addEventListener("submit", () => setTimeout(() => {
    openedInNewTab();
    // The ticket this form carried is spent: the next new tab needs another.
    form.querySelector("input[name=ticket]").value = "";
    keepTicketsFresh();
  }, 0));
}
if (settings.once) {
  // A frame that no cookie of the gateway's reaches: CoCalc's cookie would not reach it
  // either. This is the page's one view: no sign-in, straight to the full window or the
  // new tab, where cookies are first-party.
  bridge.destroy();
  kiosk.remove();
  offerNewTab();
  throw new Error("no cookie reaches this frame: full window or new-tab offer");
}
const verdict = cookieVerdict();
if (verdict === "cannot" && framed) {
  // A framed sign-in cannot work here: go straight to the offer, without trying.
  bridge.destroy();
  kiosk.remove();
  offerNewTab();
  throw new Error("framed sign-in cannot work: full window or new-tab offer");
}
if (verdict === "cannot" && !framed) {
  // A new tab, but CoCalc is on another site than the gateway: its frame would be
  // third-party here too. Go to CoCalc itself (signing in at its own site).
  window.location.replace(settings.signInUrl || kiosk.dataset.src);
  throw new Error("sign in at CoCalc's own site");
}
if (verdict === "might") signInMightFail = true;

// The current CoCalc API signs in only through /auth/impersonate: its response sets
// CoCalc's cookie, then the kiosk page can load without a token. It is requested here as a
// credentialed no-cors request, not loaded in a frame: the cookie is stored when the
// response arrives (no document is made for it), and nothing goes on to CoCalc's app, which
// the response's script would load beside the kiosk (measured against a hidden frame: the
// kiosk starts about 15 ms sooner). The browser applies the same cookie rules to both: the
// cookie verdicts above still hold. The kiosk gets its URL only here, after the bridge
// listens. The sign-in counts as done only on a positive signal: a file of the user's
// project opened in the kiosk (a bad token answers an error text and sets no cookie).
if (settings.signInUrl) {
  fetch(settings.signInUrl, {
    mode: "no-cors", credentials: "include", cache: "no-store", referrerPolicy: "no-referrer",
  }).catch(() => {}).then(() => { kiosk.src = kiosk.dataset.src; });
} else {
  kiosk.src = kiosk.dataset.src;  // API v1: the kiosk URL signs in itself
}

document.getElementById("problem-retry").addEventListener("click", () => window.location.reload());
document.getElementById("problem-show").addEventListener("click", showCoCalc);
const remaining = Date.parse(settings.expiresAt) - Date.now();
setTimeout(expire, Math.max(0, Math.min(remaining, 2 ** 31 - 1)));
bridge.on("project-log", (entry) => notifyHost("project-log", entry));
bridge.on("error", (error) => notifyHost("error", { code: error.code, message: error.message }));
start();

// -- relay: the host page drives CoCalc through this page --------------------------------------
async function handle(method, params) {
  if (method === "hello") {
    return {
      expired, ready: bridge.isReady, projectId: settings.projectId, path: settings.path,
      expiresAt: settings.expiresAt, readyTimeoutMs: settings.readyTimeoutMs,
    };
  }
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
      // The same path rules as a launch: the host page cannot reach outside the project.
      return bridge.open({ project_id: projectId, path: cleanPath(params.path) }, {
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
