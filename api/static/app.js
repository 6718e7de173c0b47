// The planning page: sign in, datasets, where a dataset stands, plans (start, watch, open,
// explain, repair), compare, roadmaps. Hash routes (#/d/ID, #/p/ID, #/c/A,B, #/r/ID) carry only
// ids; the key stays in sessionStorage and the Authorization header.

import { closeStreams, get, getKey, setKey } from "./api.js";
import { h, errorBox, table, when } from "./dom.js";
import { currentLang, setLang, t } from "./i18n.js";
import { datasetView } from "./views/dataset.js";
import { planView } from "./views/plan.js";
import { compareView } from "./views/compare.js";
import { roadmapView } from "./views/roadmap.js";

const main = document.getElementById("main");

function signInView() {
  const input = h("input", { id: "key", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const msg = h("div", {});
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: async (e) => {
        e.preventDefault();
        setKey(input.value.trim());
        try {
          await get("/v1/datasets");
          location.hash = "#/";
          route();
        } catch (err) {
          setKey(null);
          msg.replaceChildren(errorBox(err.status === 401 ? { messages: [t("badKey")] } : err));
        }
      },
    },
    h("h2", {}, t("signIn")),
    h("label", { for: "key" }, t("apiKey")),
    input,
    h("p", { class: "muted" }, t("keyHint")),
    h("button", { type: "submit", id: "signin" }, t("signIn")),
    msg,
  );
  main.replaceChildren(h("section", {}, form));
  input.focus();
}

async function datasetsView() {
  const list = await get("/v1/datasets");
  const rows = list.map((d) => ({ ...d, posts: d.summary?.posts, cadres: d.summary?.cadres }));
  const columns = [
    {
      title: t("datasets"),
      cell: (d) => h("a", { href: `#/d/${encodeURIComponent(d.dataset_id)}`, "data-dataset": d.name }, d.name),
    },
    { title: t("posts"), key: "posts", num: true },
    { title: t("cadres"), key: "cadres", num: true },
    { title: "", cell: (r) => when(r.created_at) },
  ];
  main.replaceChildren(
    h(
      "section",
      {},
      h("h2", {}, t("chooseDataset")),
      rows.length ? table(t("datasets"), columns, rows) : h("p", {}, t("noDatasets")),
    ),
  );
}

function chrome() {
  document.getElementById("title").textContent = t("title");
  document.title = t("title");
  document.getElementById("lang-label").textContent = t("language");
  const out = document.getElementById("signout");
  out.textContent = t("signOut");
  out.hidden = !getKey();
}

export async function route() {
  closeStreams();
  chrome();
  if (!getKey()) return signInView();
  const [, kind, arg] = (location.hash || "#/").slice(1).split("/");
  const id = arg ? decodeURIComponent(arg) : null;
  main.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try {
    if (kind === "d" && id) await datasetView(main, id);
    else if (kind === "p" && id) await planView(main, id);
    else if (kind === "c" && id) await compareView(main, id.split(","));
    else if (kind === "r" && id) await roadmapView(main, id);
    else await datasetsView();
  } catch (err) {
    if (err.status === 401) {
      setKey(null);
      return signInView();
    }
    main.replaceChildren(errorBox(err), h("p", {}, h("a", { href: "#/" }, t("back"))));
  }
  main.focus({ preventScroll: true });
}

async function start() {
  const select = document.getElementById("lang");
  await setLang(currentLang());
  select.value = currentLang();
  select.addEventListener("change", async () => {
    await setLang(select.value);
    route();
  });
  document.getElementById("signout").addEventListener("click", () => {
    setKey(null);
    location.hash = "#/";
    route();
  });
  document.getElementById("skip").addEventListener("click", () => main.focus());
  window.addEventListener("hashchange", route);
  route();
}

start();
