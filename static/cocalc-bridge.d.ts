// Types of cocalc-bridge.js (inside the gateway's embed page) and cocalc-embed.js (host pages).

export type ErrorCodeName = "TIMEOUT" | "REMOTE_ERROR" | "DESTROYED" | "NOT_READY" | "INVALID_ARGUMENT";

export declare const ErrorCode: Readonly<{ [K in ErrorCodeName]: K }>;

export declare class BridgeError extends Error {
  readonly name: "BridgeError";
  readonly code: ErrorCodeName;
  /** CoCalc's own message, for REMOTE_ERROR. */
  readonly mesg?: string;
}

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
  open(file: { project_id: string; path: string }, options?: OpenOptions): Promise<OpenedFile>;
  closeAll(options?: CallOptions): Promise<{ mesg: string }>;
  status(options?: CallOptions): Promise<CoCalcStatus>;
  on(event: "ready", callback: () => void): () => void;
  on(event: "project-log", callback: (entry: ProjectLogEntry) => void): () => void;
  on(event: "error", callback: (error: BridgeError) => void): () => void;
  readonly isReady: boolean;
  destroy(): void;
}

/** Connect to the CoCalc kiosk page in `iframe`; `origin` is CoCalc's exact origin. */
export declare function connect(
  iframe: HTMLIFrameElement,
  options: { origin: string; timeout?: number },
): Bridge;

export declare function normalizeStatus(reply: unknown): CoCalcStatus;

// -- cocalc-embed.js -------------------------------------------------------------------------

export interface Embed {
  readonly iframe: HTMLIFrameElement;
  ready(options?: CallOptions): Promise<{ projectId: string }>;
  /** project_id defaults to the launch's project (the only one allowed). */
  open(file: { project_id?: string; path: string }, options?: OpenOptions): Promise<OpenedFile>;
  closeAll(options?: CallOptions): Promise<{ mesg: string }>;
  status(options?: CallOptions): Promise<CoCalcStatus>;
  on(event: "ready", callback: (data: { projectId: string }) => void): () => void;
  on(event: "project-log", callback: (entry: ProjectLogEntry) => void): () => void;
  /** The launch expired: fetch a new launch URL and mount again. */
  on(event: "expired", callback: () => void): () => void;
  on(event: "error", callback: (error: { code: ErrorCodeName; message: string }) => void): () => void;
  destroy(): void;
}

/** Mount a launch (`url`, optionally POSTing a signed `token`) in a container or iframe. */
export declare function mount(
  target: Element | HTMLIFrameElement,
  options: { url: string; token?: string; timeout?: number },
): Embed;
