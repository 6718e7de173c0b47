// Two to four plans side by side: KPIs, then every post whose holder differs, with names.

import { get } from "../api.js";
import { fill, h, table, kpiList } from "../dom.js";
import { label, t } from "../i18n.js";

const enc = encodeURIComponent;

export async function compareView(main, ids) {
  const cmp = await get(`/v1/compare?plans=${ids.map(enc).join(",")}`);
  const names = await Promise.all(cmp.plans.map((p) => get(`/v1/plans/${enc(p.plan_id)}/names`)));
  const merged = { cadres: {}, units: {}, posts: {} };
  for (const n of names) for (const k of Object.keys(merged)) Object.assign(merged[k], n[k]);
  const dsId = names[0]?.dataset_id;
  const who = (c) => (c ? (merged.cadres[c]?.name ?? c) : t("vacant"));
  const where = (p) => {
    const u = merged.posts[p]?.unit_id;
    return u ? (merged.units[u]?.name ?? u) : p;
  };
  const heads = cmp.plans.map((p, i) => `${t("plan")} ${String.fromCharCode(65 + i)}`);
  const kpis = h(
    "div",
    { class: "grid" },
    cmp.plans.map((p, i) =>
      h(
        "div",
        { "data-plan": p.plan_id },
        h("h3", {}, h("a", { href: `#/p/${enc(p.plan_id)}` }, heads[i]), ` — ${label("status", p.status)}`),
        p.status === "infeasible" ? null : kpiList(p.kpis, p.objective),
      ),
    ),
  );
  const diff = cmp.differing_posts.map((d) => ({ ...d, where: where(d.post_id) }));
  const columns = [{ title: t("post"), key: "where" }].concat(
    cmp.plans.map((p, i) => ({ title: heads[i], cell: (d) => who(d.holders[p.plan_id]) })),
  );
  fill(
    main,
    h("p", {}, h("a", { href: dsId ? `#/d/${enc(dsId)}` : "#/" }, `← ${t("plans")}`)),
    h("h2", { id: "compare-title" }, `${t("compare")}: ${heads.join(" · ")}`),
    h("section", { "aria-labelledby": "ck-h" }, h("h2", { id: "ck-h" }, t("kpis")), kpis),
    h(
      "section",
      { "aria-labelledby": "cd-h", id: "differing" },
      h("h2", { id: "cd-h" }, `${t("differing")} (${diff.length})`),
      diff.length ? h("div", { class: "scroll" }, table(t("differing"), columns, diff)) : h("p", {}, t("sameEverywhere")),
    ),
  );
}
