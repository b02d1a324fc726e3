// Types of cocalc-bridge.js (inside the gateway's embed page) and cocalc-embed.js (host pages).

export type ErrorCodeName =
  | "TIMEOUT"
  | "REMOTE_ERROR"
  | "DESTROYED"
  | "NOT_READY"
  | "INVALID_ARGUMENT"
  /** cocalc-embed.js: the gateway's page never answered the handshake. */
  | "HANDSHAKE_TIMEOUT"
  /** cocalc-embed.js: the launch ended on one of the gateway's error pages (see `reason`). */
  | "LAUNCH_FAILED";

export declare const ErrorCode: Readonly<{ [K in ErrorCodeName]: K }>;

export declare class BridgeError extends Error {
  readonly name: "BridgeError";
  readonly code: ErrorCodeName;
  /** CoCalc's own message, for REMOTE_ERROR. */
  readonly mesg?: string;
  /** The gateway's error code, for LAUNCH_FAILED: "unauthorized", "expired", ... */
  readonly reason?: string;
}

/** CoCalc's reply when a file is open (`open()` resolves with it). */
export interface OpenDone {
  status: "done";
  action: "open";
  project_id: string;
  /** The path as sent: normalised with the launches' rules (see cleanPath). */
  path: string;
}

/** Normalise a project-relative path like the gateway does for launches; throws
 * INVALID_ARGUMENT for absolute paths, "~", "\\", "..", NUL, control characters. */
export declare function cleanPath(path: string): string;

export interface OpenedFile {
  project_id: string;
  path: string;
}

export interface CoCalcStatus {
  connection: {
    quality: "good" | "flaky" | "bad" | string | null;
    status: string | null;
    /** Real CoCalc sends a Date; strings and numbers are converted. */
    status_time: Date | null;
    /** Real CoCalc sometimes leaves it out. */
    ping: number | null;
  };
  /** project_id -> open paths */
  open_files: Record<string, string[]>;
}

export interface ProjectLogEntry {
  event: Record<string, unknown>;
  project_id: string;
  id: string;
  time: Date | string;
}

export interface CallOptions {
  /** Milliseconds before the call rejects with TIMEOUT (default: the connect/mount timeout). */
  timeout?: number;
}

export interface OpenOptions extends CallOptions {
  /** Called when CoCalc acknowledges the command (before the file is open). */
  onAck?: (file: OpenedFile) => void;
}

export interface Bridge {
  ready(): Promise<void>;
  open(file: { project_id: string; path: string }, options?: OpenOptions): Promise<OpenDone>;
  closeAll(options?: CallOptions): Promise<{ mesg: string }>;
  status(options?: CallOptions): Promise<CoCalcStatus>;
  on(event: "ready", callback: () => void): () => void;
  on(event: "project-log", callback: (entry: ProjectLogEntry) => void): () => void;
  on(event: "error", callback: (error: BridgeError) => void): () => void;
  /** The kiosk page reloaded; the command in flight is sent again once it answers. */
  on(event: "reload", callback: () => void): () => void;
  readonly isReady: boolean;
  /** Whether CoCalc ever answered. */
  readonly hasAnswered: boolean;
  destroy(): void;
}

/** What one reply means for the command in flight (replies carry no id). */
export declare function classifyReply(
  command: { action: "open" | "status" | "closeall"; project_id?: string; path?: string },
  reply: Record<string, unknown>,
): { kind: "ack" | "done" | "error" | "ignore"; value?: unknown; error?: BridgeError };

/** Connect to the CoCalc kiosk page in `iframe`; `origin` is CoCalc's exact origin. */
export declare function connect(
  iframe: HTMLIFrameElement,
  options: { origin: string; timeout?: number },
): Bridge;

export declare function normalizeStatus(reply: unknown): CoCalcStatus;

// -- cocalc-embed.js -------------------------------------------------------------------------

/** A fresh launch for renewals: a launch or embed URL, or a URL with a token to POST. */
export type Launch = string | { url: string; token?: string };

export interface MountOptions {
  /** The launch or embed URL (the gateway's /launch for tokens). */
  url: string;
  /** A signed launch token, POSTed to `url` so it never appears in a URL. */
  token?: string;
  /** Returns a fresh launch: the embed renews itself before it expires (and after an
   * expiry) with it, re-opening the file that was open. */
  fetchLaunchUrl?: () => Promise<Launch>;
  /** Milliseconds for each call (default 20000). */
  timeout?: number;
  /** Milliseconds the gateway's page may take to answer at all, a cold launch included
   * (default 45000); then ready() rejects with HANDSHAKE_TIMEOUT. */
  handshakeTimeout?: number;
}

export interface Embed {
  readonly iframe: HTMLIFrameElement;
  /** Resolves once CoCalc answers; the embed page decides how long that may take. */
  ready(options?: CallOptions): Promise<{ projectId: string }>;
  /** project_id defaults to the launch's project (the only one allowed). */
  open(file: { project_id?: string; path: string }, options?: OpenOptions): Promise<OpenDone>;
  closeAll(options?: CallOptions): Promise<{ mesg: string }>;
  status(options?: CallOptions): Promise<CoCalcStatus>;
  /** Renew now (needs fetchLaunchUrl). */
  renew(): Promise<void>;
  on(event: "ready", callback: (data: { projectId: string }) => void): () => void;
  on(event: "project-log", callback: (entry: ProjectLogEntry) => void): () => void;
  /** A renewal starts (with fetchLaunchUrl). */
  on(event: "expiring", callback: () => void): () => void;
  /** A renewal finished: the new launch is ready, the file open again. */
  on(event: "renewed", callback: () => void): () => void;
  /** The launch expired (fired once; with fetchLaunchUrl only if a renewal failed). */
  on(event: "expired", callback: () => void): () => void;
  /** The user opened the notebook in a new tab (the framed sign-in was blocked). */
  on(event: "opened-in-new-tab", callback: () => void): () => void;
  on(event: "error", callback: (error: { code: string; message: string }) => void): () => void;
  destroy(): void;
}

/** Mount a launch (`url`, optionally POSTing a signed `token`) in a container or iframe. */
export declare function mount(target: Element | HTMLIFrameElement, options: MountOptions): Embed;
