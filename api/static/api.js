// The service, seen from the page: every call sends the key in the Authorization header (never
// in a URL; event streams use a short-lived stream token instead); the key lives in
// sessionStorage, so it is gone when the tab closes.

const KEY_SLOT = "rotation.key";

export function getKey() {
  return sessionStorage.getItem(KEY_SLOT);
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_SLOT, key);
  else sessionStorage.removeItem(KEY_SLOT);
}

export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join("\n"));
    this.status = status;
    this.messages = messages;
  }
}

// Every error shape the service may send: {detail: "..."}, {detail: ["...", ...]},
// {detail: [{loc, msg}, ...]} (validation) or problem+json {title, detail, errors: [...]}.
export function errorMessages(status, body) {
  if (body == null || typeof body !== "object") return [`HTTP ${status}`];
  const out = [];
  const one = (x) => {
    if (x == null) return;
    if (typeof x === "string") out.push(x);
    else if (Array.isArray(x)) x.forEach(one);
    else if (typeof x === "object") {
      const where = [x.field, x.row != null ? `row ${x.row}` : null, x.column]
        .concat(Array.isArray(x.loc) ? [x.loc.join(".")] : [])
        .filter(Boolean)
        .join(", ");
      const msg = x.msg || x.message || x.detail || JSON.stringify(x);
      out.push(where ? `${where}: ${msg}` : msg);
    }
  };
  if (Array.isArray(body.errors) && body.errors.length) one(body.errors);
  else if (body.detail != null) one(body.detail);
  else if (body.title) out.push(body.title);
  return out.length ? out : [`HTTP ${status}`];
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!r.ok) throw new ApiError(r.status, errorMessages(r.status, data));
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body ?? {});

// Server-sent events read with the browser's EventSource. EventSource cannot send the
// Authorization header and the key must never go into a URL, so the page first asks for a
// stream token (POST /v1/jobs/{id}/stream-token: short-lived, for that job only, with this key's
// scope) and opens `events?token=…`. `onEvent(name, data)` is called for every event; resolves
// with the data of the `end` event (or null when the stream cannot be kept open). A dropped
// connection is reopened with a fresh token (the old one may have expired), a few times.
// Open streams, closed when the page moves to another view (a key may hold only so many).
const open = new Set();
const REOPEN = 5;

export function closeStreams() {
  for (const c of open) c.abort();
  open.clear();
}

export async function streamEvents(jobId, onEvent) {
  const controller = new AbortController();
  open.add(controller);
  try {
    for (let attempt = 0; attempt <= REOPEN; attempt++) {
      const { events_url: url } = await post(`/v1/jobs/${encodeURIComponent(jobId)}/stream-token`);
      const outcome = await readEvents(url, onEvent, controller.signal);
      if (outcome.ended) return outcome.data;
      await new Promise((ok) => setTimeout(ok, 500 * (attempt + 1)));
      if (controller.signal.aborted) break;
    }
    return null;
  } finally {
    open.delete(controller);
  }
}

function readEvents(url, onEvent, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DOMException("aborted", "AbortError"));
      return;
    }
    const source = new EventSource(url);
    const finish = (fn) => {
      source.close();
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => finish(() => reject(new DOMException("aborted", "AbortError")));
    signal.addEventListener("abort", onAbort);
    const parse = (ev) => {
      try {
        return JSON.parse(ev.data);
      } catch {
        return ev.data;
      }
    };
    source.addEventListener("progress", (ev) => onEvent("progress", parse(ev)));
    source.addEventListener("end", (ev) => {
      const data = parse(ev);
      onEvent("end", data);
      finish(() => resolve({ ended: true, data }));
    });
    // the connection dropped or was refused (an expired token, the stream cap): reopen anew
    source.addEventListener("error", () => finish(() => resolve({ ended: false, data: null })));
  });
}
