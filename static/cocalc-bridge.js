// cocalc-bridge.js: drive a CoCalc kiosk-mode iframe through CoCalc's postMessage protocol.
//
// CoCalc gives no ready signal, no request ids and no timeouts, and it silently ignores
// senders it does not allow. This module adds what is missing:
//   - ready(): probes with {action: "status"} (capped backoff) until CoCalc answers;
//     again after every reload of the iframe;
//   - one command in flight at a time (replies carry no id), the rest queued, each with a
//     deadline, rejected with a typed BridgeError (TIMEOUT, REMOTE_ERROR, DESTROYED,
//     NOT_READY, INVALID_ARGUMENT);
//   - messages are taken only from the iframe's window and the configured CoCalc origin, and
//     posted only to that origin; "cocalc-project-log" messages become events, never replies.
import { BridgeError, Emitter, ErrorCode, deferred, exactOrigin, repeatWithBackoff } from "./messaging.js";

export { BridgeError, ErrorCode };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Normalise a status reply: real CoCalc sends status_time as a Date and sometimes no ping. */
export function normalizeStatus(reply) {
  const connection = reply.connection && typeof reply.connection === "object" ? reply.connection : {};
  let time = connection.status_time;
  if (time != null && !(time instanceof Date)) time = new Date(time);
  if (time instanceof Date && Number.isNaN(time.getTime())) time = null;
  return {
    connection: {
      quality: typeof connection.quality === "string" ? connection.quality : null,
      status: typeof connection.status === "string" ? connection.status : null,
      status_time: time ?? null,
      ping: typeof connection.ping === "number" ? connection.ping : null,
    },
    open_files: reply.open_files && typeof reply.open_files === "object" ? reply.open_files : {},
  };
}

/**
 * Connect to the CoCalc kiosk page in `iframe`, whose origin must be exactly `origin`.
 * `timeout` (ms) bounds ready() and, by default, every command.
 */
export function connect(iframe, { origin, timeout = 15000 } = {}) {
  if (!(iframe instanceof HTMLIFrameElement)) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "connect() needs an <iframe> element");
  }
  const cocalcOrigin = exactOrigin(origin, "origin");
  const events = new Emitter(["ready", "project-log", "error"]);
  const queue = [];
  let current = null;
  let destroyed = false;
  let ready = false;
  // One promise for "CoCalc answered", kept across probe attempts until it settles, so no
  // caller of ready() is left waiting on an attempt that a reload replaced.
  let waiting = deferred();
  let settled = false;
  let stopProbe = () => {};
  let readyTimer = null;

  function post(message) {
    if (iframe.contentWindow) iframe.contentWindow.postMessage(message, cocalcOrigin);
  }

  function startReadiness() {
    stopProbe();
    clearTimeout(readyTimer);
    ready = false;
    if (settled) {
      waiting = deferred();
      settled = false;
    }
    stopProbe = repeatWithBackoff(() => post({ action: "status" }), () => ready || destroyed, {
      first: 100, cap: 1000, deadline: Date.now() + timeout,
    });
    readyTimer = setTimeout(() => {
      stopProbe();
      settled = true;
      waiting.reject(new BridgeError(ErrorCode.TIMEOUT, `CoCalc did not answer within ${timeout} ms`));
      for (const job of queue.splice(0)) {
        clearTimeout(job.timer);
        job.reject(new BridgeError(ErrorCode.NOT_READY, "CoCalc never became ready"));
      }
    }, timeout);
  }

  function becomeReady() {
    ready = true;
    stopProbe();
    clearTimeout(readyTimer);
    settled = true;
    waiting.resolve();
    events.emit("ready");
    pump();
  }

  function pump() {
    if (current || destroyed || !queue.length) return;
    if (!ready) {
      if (settled) startReadiness();  // an earlier attempt failed: try again for this command
      return;
    }
    current = queue.shift();
    post(current.message);
  }

  function settle(job, error, value) {
    clearTimeout(job.timer);
    const index = queue.indexOf(job);
    if (index >= 0) queue.splice(index, 1);
    if (current === job) {
      current = null;
      setTimeout(pump, 0);
    }
    if (error) job.reject(error);
    else job.resolve(value);
  }

  function command(message, kind, { onAck, timeout: limit = timeout } = {}) {
    if (destroyed) return Promise.reject(new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed"));
    const job = { message, kind, onAck, ...deferred() };
    job.timer = setTimeout(() => settle(job, new BridgeError(ErrorCode.TIMEOUT,
      `CoCalc did not finish '${message.action}' within ${limit} ms`)), limit);
    queue.push(job);
    pump();
    return job.promise;
  }

  function remoteError(data) {
    return new BridgeError(ErrorCode.REMOTE_ERROR, data.mesg || "CoCalc reported an error", { mesg: data.mesg });
  }

  // Replies carry no id: a reply belongs to the one command in flight only if its shape fits.
  function onReply(data) {
    const isStatus = data.status === "done" && "connection" in data;
    if (!ready) {
      if (isStatus) becomeReady();
      return;
    }
    const job = current;
    if (!job) {
      if (data.status === "error") events.emit("error", remoteError(data));
      return;
    }
    if (job.kind === "open") {
      const { project_id, path } = job.message;
      const same = data.action === "open" && data.project_id === project_id && data.path === path;
      if (same && data.status === "ack") {
        if (job.onAck) job.onAck({ project_id, path });
      } else if (same && data.status === "done") {
        settle(job, null, { project_id, path });
      } else if (data.status === "error" && (same || data.action === undefined)) {
        settle(job, remoteError(data));
      }
    } else if (job.kind === "status") {
      if (isStatus) settle(job, null, normalizeStatus(data));
      else if (data.status === "error" && data.action === undefined) settle(job, remoteError(data));
    } else if (job.kind === "closeall") {
      if (data.status === "done" && !isStatus && data.action === undefined) settle(job, null, { mesg: data.mesg });
      else if (data.status === "error" && data.action === undefined) settle(job, remoteError(data));
    }
  }

  function onMessage(event) {
    if (destroyed || event.source !== iframe.contentWindow || event.origin !== cocalcOrigin) return;
    const data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.source === "cocalc-project-log") {
      events.emit("project-log", data.payload && data.payload.project_log);
      return;
    }
    if (typeof data.status === "string") onReply(data);
  }

  function onLoad() {
    // A (re)loaded CoCalc page knows nothing of earlier commands: fail the one in flight.
    if (current) settle(current, new BridgeError(ErrorCode.NOT_READY, "the CoCalc page reloaded"));
    startReadiness();
  }

  window.addEventListener("message", onMessage);
  iframe.addEventListener("load", onLoad);
  startReadiness();

  return {
    /** Resolve once CoCalc answers a status probe (again after each reload). */
    ready() {
      if (destroyed) return Promise.reject(new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed"));
      if (settled && !ready) startReadiness();
      return waiting.promise;
    },
    /** Open `path` of `project_id`; resolves on "done", calls onAck on "ack". */
    open({ project_id, path } = {}, options = {}) {
      if (typeof project_id !== "string" || !UUID.test(project_id)) {
        return Promise.reject(new BridgeError(ErrorCode.INVALID_ARGUMENT, "project_id must be a UUID"));
      }
      if (typeof path !== "string") {
        return Promise.reject(new BridgeError(ErrorCode.INVALID_ARGUMENT, "path must be a string"));
      }
      return command({ action: "open", project_id, path }, "open", options);
    },
    /** Close every open file. */
    closeAll(options = {}) {
      return command({ action: "closeall" }, "closeall", options);
    },
    /** CoCalc's connection state and open files, normalised. */
    status(options = {}) {
      return command({ action: "status" }, "status", options);
    },
    /** Listen to "ready", "project-log" or "error"; returns a function that unsubscribes. */
    on(name, callback) {
      return events.on(name, callback);
    },
    get isReady() {
      return ready;
    },
    /** Remove every listener and timer; pending calls reject with DESTROYED. */
    destroy() {
      if (destroyed) return;
      destroyed = true;
      window.removeEventListener("message", onMessage);
      iframe.removeEventListener("load", onLoad);
      stopProbe();
      clearTimeout(readyTimer);
      if (!settled) waiting.reject(new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed"));
      const error = new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed");
      for (const job of [current, ...queue].filter(Boolean)) {
        clearTimeout(job.timer);
        job.reject(error);
      }
      current = null;
      queue.length = 0;
      events.clear();
    },
  };
}
