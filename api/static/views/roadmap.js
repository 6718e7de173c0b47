// A term roadmap: one card per round on a timeline (moves, share, changes), and the same
// numbers as a table.

import { get } from "../api.js";
import { fill, h, table, kpiList } from "../dom.js";
import { label, num, pct, t } from "../i18n.js";

const enc = encodeURIComponent;

function share(kpis) {
  const s = kpis?.non_local_share;
  return s && typeof s === "object" ? s.overall : s;
}

export async function roadmapView(main, id) {
  const rm = await get(`/v1/roadmaps/${enc(id)}`);
  const rounds = (rm.rounds || []).map((r, i) => {
    const kpis = r.plan?.kpis ?? rm.kpis_by_round?.[i] ?? null;
    const changed = (r.plan?.assignments || []).filter((a) => a.changed).length;
    return { n: i + 1, as_of: r.as_of, status: r.plan?.status, kpis, changed, share: share(kpis) };
  });
  const cards = h(
    "ol",
    { class: "timeline", "aria-label": t("timeline") },
    rounds.map((r) =>
      h("li", {}, h("strong", {}, `${t("round")} ${r.n}: ${r.as_of}`), h("div", {}, label("status", r.status)), kpiList(r.kpis)),
    ),
  );
  fill(
    main,
    h("p", {}, h("a", { href: rm.dataset_id ? `#/d/${enc(rm.dataset_id)}` : "#/" }, `← ${t("datasets")}`)),
    h("h2", { id: "roadmap-title" }, `${t("roadmap")} — ${label("status", rm.status)}`),
    h("section", { "aria-labelledby": "tl-h" }, h("h2", { id: "tl-h" }, t("timeline")), cards),
    h(
      "section",
      {},
      table(
        t("timeline"),
        [
          { title: t("round"), key: "as_of" },
          { title: t("status"), cell: (r) => label("status", r.status) },
          { title: t("changes"), num: true, cell: (r) => num(r.changed) },
          { title: t("share"), num: true, cell: (r) => pct(r.share) },
        ],
        rounds,
      ),
    ),
    (rm.diagnosis || []).length
      ? h("section", {}, h("h2", {}, t("diagnosis")), h("ul", {}, rm.diagnosis.map((d) => h("li", {}, `${label("rule", d.rule)} — ${d.scope ?? ""}: ${d.detail ?? ""}`))))
      : null,
  );
}
