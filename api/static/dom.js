// Small DOM helpers: elements built from data (never innerHTML, so names cannot inject markup),
// tables (the text alternative of every map and chart), KPI lists and a live job panel.

import { call, streamEvents, get } from "./api.js";
import { jobStatus, t, label, money, num, pct, km } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replace an element's children, leaving out the absent (null) ones. */
export function fill(el, ...nodes) {
  el.replaceChildren(...nodes.flat().filter((n) => n != null));
}

/** An ISO time as the reader's language writes it. */
export function when(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "vi-VN") : t("none");
}

/** A table: columns [{key, title, num?, cell?(row)}]; `caption` says what it shows. */
export function table(caption, columns, rows, { rowAttrs } = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "n" : null }, c.title)));
  const body = rows.map((r) =>
    h(
      "tr",
      rowAttrs ? rowAttrs(r) : {},
      columns.map((c) => h("td", { class: c.num ? "n" : null }, c.cell ? c.cell(r) : (r[c.key] ?? t("none")))),
    ),
  );
  return h("table", {}, h("caption", { class: "muted" }, caption), h("thead", {}, head), h("tbody", {}, body));
}

export function errorBox(err) {
  const lines = err?.messages ?? [String(err?.message ?? err)];
  return h("p", { class: "error", role: "alert" }, `${t("error")}: ${lines.join("\n")}`);
}

/** The KPIs of a plan as a definition list, labelled from the catalogue. */
export function kpiList(kpis, objective = null) {
  if (!kpis) return h("p", { class: "muted" }, t("none"));
  const items = [];
  if (objective != null) items.push(["objective", num(objective, 1)]);
  const share = kpis.non_local_share;
  if (share && typeof share === "object") items.push(["non_local_share", pct(share.overall)]);
  else if (share != null) items.push(["non_local_share", pct(share)]);
  for (const k of ["changed_posts", "total_travel_km", "max_travel_km", "support_cost_vnd"]) {
    if (kpis[k] == null) continue;
    const v = k.endsWith("_km") ? km(kpis[k]) : k.endsWith("_vnd") ? money(kpis[k]) : num(kpis[k]);
    items.push([k, v]);
  }
  return h("dl", { class: "kpis" }, items.map(([k, v]) => h("div", {}, h("dt", {}, label("kpi", k)), h("dd", {}, v))));
}

/** A live panel for one job: reads its event stream (EventSource with a stream token) and
 * shows status, phase, elapsed time, objective, bound and gap; resolves with the final job. */
export async function watchJob(container, jobId, intro = null) {
  const dl = h("dl", {});
  const bar = h("progress", { max: 1, "aria-label": t("progress") });
  const msg = h("div", {});
  const cancel = h("button", { type: "button", class: "cancel" }, t("cancel"));
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await call("DELETE", `/v1/jobs/${encodeURIComponent(jobId)}`);
    } catch (err) {
      msg.replaceChildren(errorBox(err));
    }
  });
  const panel = h(
    "div",
    { class: "progress", "data-job": jobId, role: "status", "aria-live": "polite" },
    h("h3", {}, t("progress")),
    intro ? h("p", {}, intro) : null,
    bar,
    dl,
    cancel,
    msg,
  );
  container.replaceChildren(panel);
  panel.scrollIntoView({ block: "nearest" });
  const seen = new Set();
  const show = (ev) => {
    const p = ev.progress || {};
    const rows = [
      [t("status"), jobStatus(ev.status)],
      [t("phase"), p.phase ?? t("none")],
      [t("elapsed"), p.elapsed_s != null ? `${num(p.elapsed_s, 1)} s` : t("none")],
      [t("objective"), p.objective != null ? num(p.objective, 1) : t("none")],
      [t("bound"), p.bound != null ? num(p.bound, 1) : t("none")],
      [t("gap"), p.gap != null ? pct(p.gap, 2) : t("none")],
    ];
    if (ev.queue_position != null) rows.push([t("queue"), String(ev.queue_position)]);
    dl.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    if (p.gap != null) bar.value = Math.max(0, 1 - p.gap);
    panel.dataset.status = ev.status;
  };
  const onEvent = (name, data) => {
    if (!data || typeof data !== "object") return;
    seen.add(data.status);
    panel.dataset.events = String(Number(panel.dataset.events || 0) + 1);
    panel.dataset.seen = [...seen].join(" ");
    show(data);
  };
  try {
    await streamEvents(jobId, onEvent);
  } catch (err) {
    if (err.name === "AbortError") return null; // the page moved on to another view
    panel.append(errorBox(err));
  }
  const job = await get(`/v1/jobs/${encodeURIComponent(jobId)}`);
  show(job);
  bar.value = 1;
  cancel.remove();
  panel.dataset.done = "true";
  if (job.error) panel.append(h("p", { class: "error" }, job.error));
  return job;
}
