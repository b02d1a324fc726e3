// cocalc-bridge.js: drive a CoCalc kiosk-mode iframe through CoCalc's postMessage protocol.
//
// CoCalc gives no ready signal, no request ids and no timeouts, and it silently ignores
// senders it does not allow. This module adds what is missing:
//   - ready(): probes with {action: "status"} (capped backoff) until CoCalc answers;
//   - one command in flight at a time (replies carry no id), the rest queued, each with a
//     deadline, rejected with a typed BridgeError (TIMEOUT, REMOTE_ERROR, DESTROYED,
//     NOT_READY, INVALID_ARGUMENT);
//   - messages are taken only from the iframe's window and the configured CoCalc origin, and
//     posted only to that origin; "cocalc-project-log" messages become events, never replies.
//
// What the real CoCalc does, and the bridge follows: the kiosk page is a single-page app
// that answers postMessage before its iframe fires its first "load" (so that first load is
// not a reload); its first status replies say "connecting" without status_time or ping; and
// a later load is a real reload, after which CoCalc knows nothing of earlier commands, so
// the command in flight is sent again once CoCalc answers (every command is idempotent).
import { BridgeError, Emitter, ErrorCode, cleanPath, deferred, exactOrigin, repeatWithBackoff } from "./messaging.js";

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

/** A status reply: "done" with a connection, the only kind that proves CoCalc answers. */
export function isStatusReply(data) {
  return data.status === "done" && "connection" in data;
}

function remoteError(data) {
  return new BridgeError(ErrorCode.REMOTE_ERROR, data.mesg || "CoCalc reported an error", { mesg: data.mesg });
}

/**
 * Say what a reply means for the command in flight (replies carry no id: a reply belongs to
 * the command only if its shape fits it). `command` is {action, project_id?, path?}.
 * Returns {kind: "ack" | "done" | "error" | "ignore", value?, error?}.
 */
export function classifyReply(command, data) {
  const generic = data.action === undefined;  // replies that name no action (bad input, status)
  if (command.action === "open") {
    const same = data.action === "open" && data.project_id === command.project_id && data.path === command.path;
    if (same && data.status === "ack") return { kind: "ack" };
    if (same && data.status === "done") {
      return { kind: "done", value: { status: "done", action: "open", project_id: command.project_id, path: command.path } };
    }
    if (data.status === "error" && (same || generic)) return { kind: "error", error: remoteError(data) };
    return { kind: "ignore" };
  }
  if (command.action === "status") {
    if (isStatusReply(data)) return { kind: "done", value: normalizeStatus(data) };
    if (data.status === "error" && generic) return { kind: "error", error: remoteError(data) };
    return { kind: "ignore" };
  }
  if (command.action === "closeall") {
    if (data.status === "done" && !isStatusReply(data) && generic) return { kind: "done", value: { mesg: data.mesg } };
    if (data.status === "error" && generic) return { kind: "error", error: remoteError(data) };
  }
  return { kind: "ignore" };
}

/** One connection to a kiosk page: the state machine behind connect()'s public object. */
class KioskConnection {
  constructor(iframe, cocalcOrigin, timeout) {
    this.iframe = iframe;
    this.origin = cocalcOrigin;
    this.timeout = timeout;
    this.events = new Emitter(["ready", "project-log", "error", "reload"]);
    this.queue = [];
    this.current = null;     // the command in flight
    this.destroyed = false;
    this.ready = false;      // CoCalc answered since the last (re)load
    this.answered = false;   // CoCalc answered at least once, ever
    this.loads = 0;          // "load" events of the CoCalc page (not of an empty frame)
    // One promise for "CoCalc answered", kept across probe attempts until it settles, so no
    // caller of ready() is left waiting on an attempt that a reload replaced.
    this.waiting = deferred();
    this.settled = false;
    this.stopProbe = () => {};
    this.readyTimer = null;
    // After a command timed out, its late replies may still come: before the next command
    // is sent, a status probe must be answered (CoCalc answers in order), and every reply
    // before that answer is dropped, so a late reply can never settle another command.
    this.resync = null;
    this.onMessage = this.onMessage.bind(this);
    this.onLoad = this.onLoad.bind(this);
    window.addEventListener("message", this.onMessage);
    iframe.addEventListener("load", this.onLoad);
    this.startReadiness();
  }

  post(message) {
    if (this.iframe.contentWindow) this.iframe.contentWindow.postMessage(message, this.origin);
  }

  failQueued(error) {
    for (const job of this.queue.splice(0)) {
      clearTimeout(job.timer);
      job.reject(error);
    }
  }

  /** Put the command in flight back at the head of the queue (CoCalc forgot it). */
  requeueCurrent() {
    if (this.current) this.queue.unshift(this.current);
    this.current = null;
  }

  startReadiness() {
    this.stopProbe();
    clearTimeout(this.readyTimer);
    this.ready = false;
    if (this.settled) {
      this.waiting = deferred();
      this.settled = false;
    }
    this.stopProbe = repeatWithBackoff(() => this.post({ action: "status" }), () => this.ready || this.destroyed, {
      // A status probe costs CoCalc next to nothing: every 20 ms for the first 3 s, so the
      // kiosk page is answered within 20 ms of listening (50 ms cost 25 ms on average, and
      // the kiosk page starts later than the bridge: after the sign-in).
      first: 20, steady: 3000, cap: 1000, deadline: Date.now() + this.timeout,
    });
    this.readyTimer = setTimeout(() => this.readinessTimedOut(), this.timeout);
  }

  readinessTimedOut() {
    this.stopProbe();
    this.settled = true;
    this.waiting.reject(new BridgeError(ErrorCode.TIMEOUT, `CoCalc did not answer within ${this.timeout} ms`));
    this.requeueCurrent();
    this.failQueued(new BridgeError(ErrorCode.NOT_READY, "CoCalc never became ready"));
  }

  becomeReady() {
    this.ready = true;
    this.answered = true;
    this.stopProbe();
    clearTimeout(this.readyTimer);
    this.settled = true;
    this.waiting.resolve();
    this.events.emit("ready");
    this.pump();
  }

  pump() {
    if (this.current || this.destroyed || !this.queue.length) return;
    if (!this.ready) {
      if (this.settled) this.startReadiness();  // an earlier attempt failed: try again for this command
      return;
    }
    if (this.resync) {
      if (!this.resync.sent) {
        this.resync.sent = true;
        this.post({ action: "status" });
      }
      return;
    }
    this.current = this.queue.shift();
    this.post(this.current.message);
  }

  settle(job, error, value) {
    clearTimeout(job.timer);
    const index = this.queue.indexOf(job);
    if (index >= 0) this.queue.splice(index, 1);
    if (this.current === job) {
      this.current = null;
      if (error && error.code === ErrorCode.TIMEOUT) this.resync = { sent: false };
      setTimeout(() => this.pump(), 0);
    }
    if (error) job.reject(error);
    else job.resolve(value);
  }

  command(message, { onAck, timeout: limit = this.timeout } = {}) {
    if (this.destroyed) return Promise.reject(new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed"));
    const job = { message, onAck, ...deferred() };
    job.timer = setTimeout(() => this.settle(job, new BridgeError(ErrorCode.TIMEOUT,
      `CoCalc did not finish '${message.action}' within ${limit} ms`)), limit);
    this.queue.push(job);
    this.pump();
    return job.promise;
  }

  onReply(data) {
    if (!this.ready) {
      if (isStatusReply(data)) this.becomeReady();
      return;
    }
    if (this.resync) {
      // Replies from before the probe's answer are the timed-out command's: drop them.
      if (this.resync.sent && isStatusReply(data)) {
        this.resync = null;
        this.pump();
      }
      return;
    }
    const job = this.current;
    if (!job) {
      if (data.status === "error") this.events.emit("error", remoteError(data));
      return;
    }
    const verdict = classifyReply(job.message, data);
    if (verdict.kind === "ack") {
      if (job.onAck) job.onAck({ project_id: job.message.project_id, path: job.message.path });
    } else if (verdict.kind === "done") {
      this.settle(job, null, verdict.value);
    } else if (verdict.kind === "error") {
      this.settle(job, verdict.error);
    }
  }

  onMessage(event) {
    if (this.destroyed || event.source !== this.iframe.contentWindow || event.origin !== this.origin) return;
    const data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.source === "cocalc-project-log") {
      this.events.emit("project-log", data.payload && data.payload.project_log);
      return;
    }
    if (typeof data.status === "string") this.onReply(data);
  }

  onLoad() {
    if (!this.iframe.getAttribute("src")) return;  // an empty frame, not CoCalc
    this.loads += 1;
    if (this.loads === 1) {
      // The page finished loading: it may have answered already; if not, it listens now.
      if (!this.ready) this.post({ action: "status" });
      return;
    }
    // A reload: CoCalc forgot the command in flight; send it again once CoCalc answers.
    this.events.emit("reload");
    this.requeueCurrent();
    this.startReadiness();
  }

  whenReady() {
    if (this.destroyed) return Promise.reject(new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed"));
    if (this.settled && !this.ready) this.startReadiness();
    return this.waiting.promise;
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    window.removeEventListener("message", this.onMessage);
    this.iframe.removeEventListener("load", this.onLoad);
    this.stopProbe();
    clearTimeout(this.readyTimer);
    const error = new BridgeError(ErrorCode.DESTROYED, "the bridge was destroyed");
    if (!this.settled) this.waiting.reject(error);
    this.requeueCurrent();
    this.failQueued(error);
    this.events.clear();
  }
}

/**
 * Connect to the CoCalc kiosk page in `iframe`, whose origin must be exactly `origin`.
 * `timeout` (ms) bounds ready() and, by default, every command.
 */
export function connect(iframe, { origin, timeout = 15000 } = {}) {
  if (!(iframe instanceof HTMLIFrameElement)) {
    throw new BridgeError(ErrorCode.INVALID_ARGUMENT, "connect() needs an <iframe> element");
  }
  const link = new KioskConnection(iframe, exactOrigin(origin, "origin"), timeout);
  return {
    /** Resolve once CoCalc answers a status probe (again after each reload). */
    ready: () => link.whenReady(),
    /** Open `path` of `project_id`; resolves with CoCalc's "done" reply, calls onAck on
     * "ack". The path is normalised with the launches' rules first (cleanPath). */
    open({ project_id, path } = {}, options = {}) {
      if (typeof project_id !== "string" || !UUID.test(project_id)) {
        return Promise.reject(new BridgeError(ErrorCode.INVALID_ARGUMENT, "project_id must be a UUID"));
      }
      let clean;
      try {
        clean = cleanPath(path);
      } catch (error) {
        return Promise.reject(error);
      }
      return link.command({ action: "open", project_id, path: clean }, options);
    },
    /** Close every open file. */
    closeAll: (options = {}) => link.command({ action: "closeall" }, options),
    /** CoCalc's connection state and open files, normalised. */
    status: (options = {}) => link.command({ action: "status" }, options),
    /** Listen to "ready", "project-log", "error" or "reload"; returns an unsubscribe function. */
    on: (name, callback) => link.events.on(name, callback),
    get isReady() {
      return link.ready;
    },
    /** Whether CoCalc ever answered (then its settings let this page talk to it). */
    get hasAnswered() {
      return link.answered;
    },
    /** Remove every listener and timer; pending calls reject with DESTROYED. */
    destroy: () => link.destroy(),
  };
}
