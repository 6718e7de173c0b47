// One plan: KPIs, the map of moves (arrows), the table of changes with names, a post's
// explanation and alternatives, and "this cadre declines" (a repair job).

import { get, post } from "../api.js";
import { fill, h, errorBox, table, kpiList, watchJob } from "../dom.js";
import { km, label, num, t } from "../i18n.js";
import { movesMap } from "../svg.js";

const enc = encodeURIComponent;

function nameOf(names, cadre) {
  return cadre ? (names.cadres[cadre]?.name ?? cadre) : t("vacant");
}

function unitOfPost(names, postId) {
  const u = names.posts[postId]?.unit_id;
  return u ? (names.units[u]?.name ?? u) : postId;
}

/** Where a changed holder comes from: the unit of the previous post, else where they work. */
function fromUnit(names, a) {
  if (a.previous_post_id && names.posts[a.previous_post_id]) return names.posts[a.previous_post_id].unit_id;
  return names.cadres[a.cadre_id]?.unit_id ?? null;
}

async function explain(box, plan, names, postId, onRepair) {
  box.replaceChildren(h("p", { class: "muted" }, t("loading")));
  const ex = await get(`/v1/plans/${enc(plan.plan_id)}/posts/${enc(postId)}/explain`);
  const a = ex.assignment;
  const score = Object.entries(ex.score || {}).map(([k, v]) => ({ k, v }));
  const alts = ex.alternatives || [];
  const decline = h("button", { type: "button", id: "declines" }, t("declines"));
  decline.addEventListener("click", async () => {
    try {
      const { job_id } = await post(`/v1/plans/${enc(plan.plan_id)}/repair`, {
        events: [{ type: "declines", cadre_id: a.cadre_id, post_id: postId }],
      });
      onRepair(job_id);
    } catch (err) {
      box.append(errorBox(err));
    }
  });
  fill(
    box,
    h("h3", { id: "explain-h", tabindex: -1, "data-cadre": a.cadre_id, "data-post": postId }, `${t("why")}: ${nameOf(names, a.cadre_id)} → ${unitOfPost(names, postId)} (${label("position", a.position)})`),
    h("p", {}, `${t("from")}: ${names.units[fromUnit(names, a)]?.name ?? t("none")} · ${t("travel")}: ${km(a.travel_km)} · ${a.non_local ? t("nonLocal") : t("local")}`),
    table(t("scoreParts"), [
      { title: t("scoreParts"), cell: (r) => label("rule", r.k) },
      { title: "", num: true, cell: (r) => num(r.v, 2) },
    ], score),
    alts.length
      ? table(t("alternatives"), [
          { title: t("alternatives"), cell: (r) => nameOf(names, r.cadre_id) },
          { title: t("whyNot"), key: "why_not" },
        ], alts)
      : h("p", { class: "muted" }, `${t("alternatives")}: ${t("none")}`),
    a.cadre_id && a.changed ? decline : null,
  );
  box.querySelector("#explain-h").focus();
}

export async function planView(main, planId) {
  const [plan, names] = await Promise.all([get(`/v1/plans/${enc(planId)}`), get(`/v1/plans/${enc(planId)}/names`)]);
  plan.plan_id = plan.plan_id ?? planId;
  const dsId = plan.dataset_id ?? names.dataset_id;
  const map = await get(`/v1/datasets/${enc(dsId)}/map`).catch(() => ({ communes: [], scopes: [] }));
  const background = map.communes;
  const scopeName = Object.fromEntries(map.scopes.map((x) => [x.scope, x.name]));
  const feasible = plan.status !== "infeasible";
  const changed = (plan.assignments || []).filter((a) => a.changed);
  const explainBox = h("div", { id: "explain", "aria-live": "polite" });
  const jobBox = h("div", { id: "job" });
  const onRepair = async (jobId) => {
    const job = await watchJob(jobBox, jobId, t("repairStarted"));
    if (!job) return;
    const links = (job.plan_ids || []).map((id, i) => h("a", { href: `#/p/${enc(id)}`, class: "job-plan" }, `${t("openPlan")} ${i + 1}`));
    jobBox.append(h("p", {}, ...links.flatMap((a) => [a, " "])));
  };
  const pick = (postId) => {
    for (const el of main.querySelectorAll(".selected")) el.classList.remove("selected");
    for (const el of main.querySelectorAll(`[data-post="${CSS.escape(postId)}"]:is(tr, g)`)) el.classList.add("selected");
    explain(explainBox, plan, names, postId, onRepair).catch((err) => explainBox.replaceChildren(errorBox(err)));
  };
  const point = (unit) => (unit && names.units[unit] ? names.units[unit] : null);
  const moves = changed.map((a) => ({
    post_id: a.post_id,
    from: point(fromUnit(names, a)),
    to: point(names.posts[a.post_id]?.unit_id),
    label: `${nameOf(names, a.cadre_id)} → ${unitOfPost(names, a.post_id)}`,
  }));
  const rows = changed.map((a) => ({
    ...a,
    unit: unitOfPost(names, a.post_id),
    holder: nameOf(names, a.cadre_id),
    from: names.units[fromUnit(names, a)]?.name ?? t("none"),
    replaces: nameOf(names, names.posts[a.post_id]?.incumbent_id),
  }));
  const changes = table(
    `${t("changes")} (${changed.length})`,
    [
      {
        title: t("post"),
        cell: (r) => h("button", { type: "button", class: "link post", "data-post": r.post_id, onclick: () => pick(r.post_id) }, `${r.unit} — ${label("position", r.position)}`),
      },
      { title: t("newHolder"), key: "holder" },
      { title: t("from"), key: "from" },
      { title: t("replaces"), key: "replaces" },
      { title: t("travel"), num: true, cell: (r) => km(r.travel_km) },
      { title: t("nonLocal"), cell: (r) => (r.non_local ? t("yes") : t("no")) },
    ],
    rows,
    { rowAttrs: (r) => ({ "data-post": r.post_id }) },
  );
  const released = (plan.released || []).map((c) => nameOf(names, c));
  const diagnosis = (plan.diagnosis || []).length
    ? h(
        "section",
        { id: "diagnosis" },
        h("h2", {}, t("diagnosis")),
        table(t("diagnosis"), [
          { title: t("rule"), cell: (r) => label("rule", r.rule) },
          { title: t("scope"), cell: (r) => scopeName[r.scope] ?? r.scope ?? t("none") },
          { title: t("detail"), key: "detail" },
        ], plan.diagnosis),
      )
    : null;
  fill(
    main,
    h("p", {}, h("a", { href: `#/d/${enc(dsId)}` }, `← ${t("datasets")}`)),
    h("h2", { id: "plan-title" }, `${t("plan")} ${plan.rank ?? ""} — ${label("status", plan.status)}`),
    // an infeasible plan has no KPIs and no moves: only why (its zeros would read as a result)
    feasible ? h("section", { "aria-labelledby": "kpi-h" }, h("h2", { id: "kpi-h" }, t("kpis")), kpiList(plan.kpis, plan.objective)) : null,
    diagnosis,
    feasible
      ? h(
          "section",
          { "aria-labelledby": "moves-h" },
          h("h2", { id: "moves-h" }, `${t("movesMap")} (${changed.length} ${t("moves")})`),
          h(
            "div",
            { class: "grid" },
            h("figure", {}, movesMap(background, moves, { movesLabel: t("movesLabel") }, pick)),
            h("div", {}, explainBox, jobBox),
          ),
        )
      : null,
    feasible ? h("section", { "aria-labelledby": "changes-h" }, h("h2", { id: "changes-h" }, t("changes")), h("div", { class: "scroll" }, changes)) : null,
    released.length ? h("section", {}, h("h2", {}, `${t("released")} (${released.length})`), h("p", {}, released.join(", "))) : null,
  );
}
