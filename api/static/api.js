// The service, seen from the page: every call sends the key in the Authorization header (never
// in a URL); the key lives in sessionStorage, so it is gone when the tab closes.

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

// Server-sent events read with fetch() and a stream reader: EventSource cannot send an
// Authorization header, and the key must never go into a URL. `onEvent(name, data)` is called
// for every event; resolves with the data of the `end` event (or null if the stream closes).
// Open streams, closed when the page moves to another view (a key may hold only so many).
const open = new Set();

export function closeStreams() {
  for (const c of open) c.abort();
  open.clear();
}

export async function streamEvents(path, onEvent) {
  const controller = new AbortController();
  open.add(controller);
  try {
    return await readEvents(path, onEvent, controller.signal);
  } finally {
    open.delete(controller);
  }
}

async function readEvents(path, onEvent, signal) {
  const headers = { Accept: "text/event-stream" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const r = await fetch(path, { headers, signal });
  if (!r.ok) {
    let data = null;
    try {
      data = await r.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(r.status, errorMessages(r.status, data));
  }
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const lines = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // keep-alive comment
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) lines.push(line.slice(5).replace(/^ /, ""));
      }
      if (!lines.length) continue;
      let data;
      try {
        data = JSON.parse(lines.join("\n"));
      } catch {
        data = lines.join("\n");
      }
      onEvent(name, data);
      if (name === "end") {
        last = data;
        reader.cancel().catch(() => {});
        return last;
      }
    }
  }
  return last;
}
