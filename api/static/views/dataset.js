// One dataset: where it stands (map + bars + tables), a new plan, its plans (open, compare) and
// its term roadmaps.

import { get, post } from "../api.js";
import { fill, h, errorBox, table, kpiList, watchJob, when } from "../dom.js";
import { label, num, pct, t } from "../i18n.js";
import { communeMap, shareBars } from "../svg.js";

const enc = encodeURIComponent;

function words() {
  return {
    mapLabel: t("mapLabel"),
    nonLocal: t("nonLocal"),
    local: t("local"),
    vacant: t("vacant"),
    barsLabel: t("barsLabel"),
  };
}

function standing(map) {
  const scopeTable = table(
    t("bars"),
    [
      { title: t("scope"), key: "name" },
      { title: t("posts"), key: "posts", num: true },
      { title: t("filled"), key: "filled", num: true },
      { title: t("nonLocal"), key: "non_local", num: true },
      { title: t("share"), num: true, cell: (r) => pct(r.share) },
      { title: t("target"), num: true, cell: (r) => pct(r.target, 0) },
    ],
    map.scopes,
  );
  const communeDetails = h("details", {}, h("summary", {}, `${t("communeTable")} (${num(map.communes.length)})`));
  communeDetails.addEventListener(
    "toggle",
    () => {
      if (communeDetails.open && communeDetails.children.length === 1) {
        const names = Object.fromEntries(map.scopes.map((s) => [s.scope, s.name]));
        communeDetails.append(
          h(
            "div",
            { class: "scroll" },
            table(
              t("communes"),
              [
                { title: t("commune"), key: "name" },
                { title: t("scope"), cell: (r) => names[r.scope] ?? r.scope },
                { title: t("holder"), cell: (r) => r.holder_name ?? t("vacant") },
                { title: t("nonLocal"), cell: (r) => (r.non_local == null ? t("none") : r.non_local ? t("yes") : t("no")) },
              ],
              map.communes,
            ),
          ),
        );
      }
    },
    { once: false },
  );
  return h(
    "section",
    { "aria-labelledby": "standing-h", id: "standing" },
    h("h2", { id: "standing-h" }, `${t("standing")} — ${label("position", map.position)}`),
    h(
      "div",
      { class: "grid" },
      h("figure", {}, communeMap(map.communes, words()), h("figcaption", { class: "muted" }, t("map"))),
      h("figure", {}, shareBars(map.scopes, words(), pct), h("figcaption", { class: "muted" }, t("bars"))),
    ),
    h("div", { class: "scroll" }, scopeTable),
    communeDetails,
  );
}

function field(id, text, attrs) {
  return h("label", { for: id }, text, h("input", { id, name: id, ...attrs }));
}

function planForm(ds, map, defaults, onJob) {
  const target = (defaults.non_local_targets || []).find((x) => x.position === map.position);
  const hasBudget = "budget_vnd" in defaults;
  const msg = h("div", {});
  const form = h(
    "form",
    {
      class: "rules",
      id: "plan-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const level = map.scope_level;
        const rules = {
          positions: [map.position],
          non_local_targets: [{ position: map.position, scope_level: level, min_share: Number(f.get("target")) / 100 }],
          max_travel_km: f.get("travel") === "" ? null : Number(f.get("travel")),
          candidates: Number(f.get("candidates")),
          time_limit_s: Number(f.get("time")),
        };
        if (f.get("changes")) rules.max_changes = { scope_level: level, count: Number(f.get("changes")) };
        if (hasBudget && f.get("budget")) rules.budget_vnd = Number(f.get("budget"));
        msg.replaceChildren();
        try {
          const { job_id } = await post(`/v1/datasets/${enc(ds)}/plans`, rules);
          onJob(job_id);
        } catch (err) {
          msg.replaceChildren(errorBox(err));
        }
      },
    },
    field("target", t("targetShare"), { type: "number", min: 0, max: 100, step: 1, value: Math.round((target?.min_share ?? 0.3) * 100) }),
    field("changes", t("maxChanges"), { type: "number", min: 0, step: 1, value: defaults.max_changes?.count }),
    field("travel", t("maxTravel"), { type: "number", min: 0, step: 1, value: defaults.max_travel_km }),
    hasBudget ? field("budget", t("budget"), { type: "number", min: 0, step: 1000000, value: defaults.budget_vnd }) : null,
    field("candidates", t("candidates"), { type: "number", min: 1, max: 5, step: 1, value: defaults.candidates ?? 1 }),
    field("time", t("timeLimit"), { type: "number", min: 1, max: 600, step: 1, value: defaults.time_limit_s ?? 30 }),
    h("button", { type: "submit", id: "start-plan" }, t("start")),
  );
  return h("section", { "aria-labelledby": "plan-h" }, h("h2", { id: "plan-h" }, t("newPlan")), form, msg);
}

function plansSection(plans) {
  const chosen = new Set();
  const button = h("button", { type: "button", id: "compare", disabled: true }, t("compare"));
  button.addEventListener("click", () => {
    location.hash = `#/c/${[...chosen].map(enc).join(",")}`;
  });
  const rows = plans.map((p, i) => ({ ...p, n: i + 1 }));
  const columns = [
    {
      title: t("compare"),
      cell: (p) =>
        h("input", {
          type: "checkbox",
          "aria-label": `${t("compare")} ${t("plan")} ${p.n}`,
          "data-plan": p.plan_id,
          onchange: (e) => {
            if (e.target.checked) chosen.add(p.plan_id);
            else chosen.delete(p.plan_id);
            button.disabled = chosen.size < 2 || chosen.size > 4;
          },
        }),
    },
    { title: t("plan"), cell: (p) => h("a", { href: `#/p/${enc(p.plan_id)}`, class: "open-plan" }, `${t("plan")} ${p.n}`) },
    { title: t("status"), cell: (p) => label("status", p.status) },
    { title: t("kpis"), cell: (p) => (p.status === "infeasible" ? t("none") : kpiList(p.kpis, p.objective)) },
    { title: "", cell: (r) => when(r.created_at) },
  ];
  return h(
    "section",
    { "aria-labelledby": "plans-h", id: "plans" },
    h("h2", { id: "plans-h" }, t("plans")),
    plans.length ? table(t("plans"), columns, rows) : h("p", {}, t("noPlans")),
    h("p", { class: "muted" }, t("compareHint")),
    button,
  );
}

function roadmapSection(ds, map, roadmaps, onJob) {
  const msg = h("div", {});
  const form = h(
    "form",
    {
      class: "rules",
      id: "roadmap-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const years = String(f.get("rounds"))
          .split(/[ ,;]+/)
          .filter(Boolean)
          .map((y) => `${y.trim()}-01-01`);
        const last = years[years.length - 1];
        const rules = {
          positions: [map.position],
          time_limit_s: Number(f.get("rtime")),
          horizon: {
            rounds: years,
            trajectory: [{ position: map.position, scope_level: map.scope_level, shares: { [last]: Number(f.get("final")) / 100 }, never_decrease: true }],
          },
        };
        msg.replaceChildren();
        try {
          const { job_id } = await post(`/v1/datasets/${enc(ds)}/roadmaps`, rules);
          onJob(job_id);
        } catch (err) {
          msg.replaceChildren(errorBox(err));
        }
      },
    },
    field("rounds", t("rounds"), { type: "text", value: "2026 2027 2028 2029 2030" }),
    field("final", t("finalShare"), { type: "number", min: 0, max: 100, step: 1, value: 30 }),
    field("rtime", t("timeLimit"), { type: "number", min: 1, max: 600, step: 1, value: 120 }),
    h("button", { type: "submit", id: "start-roadmap" }, t("startRoadmap")),
  );
  const list = roadmaps.length
    ? table(
        t("roadmaps"),
        [
          { title: t("roadmap"), cell: (r) => h("a", { href: `#/r/${enc(r.roadmap_id)}` }, (r.rounds || []).join(" → ") || r.roadmap_id) },
          { title: t("status"), cell: (r) => label("status", r.status) },
          { title: "", cell: (r) => when(r.created_at) },
        ],
        roadmaps,
      )
    : null;
  return h("section", { "aria-labelledby": "roadmap-h" }, h("h2", { id: "roadmap-h" }, t("roadmap")), form, msg, list);
}

export async function datasetView(main, ds, position = null) {
  const q = position ? `?position=${enc(position)}` : "";
  const [info, map, plans, roadmaps, defaults] = await Promise.all([
    get(`/v1/datasets/${enc(ds)}`),
    get(`/v1/datasets/${enc(ds)}/map${q}`),
    get(`/v1/datasets/${enc(ds)}/plans`),
    get(`/v1/datasets/${enc(ds)}/roadmaps`).catch(() => []),
    get("/v1/rules/defaults").then((d) => d.rules),
  ]);
  const jobBox = h("div", { id: "job" });
  let plansBox = plansSection(plans);
  const afterJob = async (job) => {
    const fresh = await get(`/v1/datasets/${enc(ds)}/plans`);
    const next = plansSection(fresh);
    plansBox.replaceWith(next);
    plansBox = next;
    const links = (job.plan_ids || []).map((id, i) => h("a", { href: `#/p/${enc(id)}`, class: "job-plan" }, `${t("openPlan")} ${i + 1}`));
    jobBox.append(h("p", {}, ...links.flatMap((a) => [a, " "])));
    if (job.roadmap_id) jobBox.append(h("p", {}, h("a", { href: `#/r/${enc(job.roadmap_id)}`, class: "job-roadmap" }, t("timeline"))));
  };
  const onJob = async (jobId) => {
    const job = await watchJob(jobBox, jobId);
    if (job) await afterJob(job);
  };
  const select = h(
    "select",
    {
      id: "position",
      onchange: (e) => datasetView(main, ds, e.target.value).catch((err) => main.append(errorBox(err))),
    },
    map.positions.map((p) => h("option", { value: p, selected: p === map.position }, label("position", p))),
  );
  fill(
    main,
    h("p", {}, h("a", { href: "#/" }, `← ${t("datasets")}`)),
    h("h2", { id: "dataset-name" }, info.name),
    h("p", {}, h("label", { for: "position" }, `${t("position")} `), select),
    standing(map),
    planForm(ds, map, defaults, onJob),
    jobBox,
    plansBox,
    roadmapSection(ds, map, roadmaps, onJob),
  );
}
