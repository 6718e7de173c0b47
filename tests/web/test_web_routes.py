"""api/routes/web.py without a browser: the page and its files, labels, the dataset map (same
numbers as the dataset summary and the rules' definition of local) and a plan's names."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_helpers import AS_OF_RULES, Api, open_api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from open_api(tmp_path_factory.mktemp("web") / "web.sqlite3")


@pytest.fixture(scope="module")
def tiny_id(api: Api) -> str:
    return api.upload_zip()


def test_page_and_its_modules_are_served(api: Api) -> None:
    """GET / is the page; its modules come as JavaScript, with a same-origin-only policy."""
    r = api.client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    js = api.client.get("/static/app.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "import " in js.text
    assert api.client.get("/static/views/plan.js").status_code == 200


@pytest.mark.parametrize(
    "path", ["/static/../routes/web.py", "/static/%2e%2e/main.py", "/static/nothing.js", "/static/"]
)
def test_no_file_outside_the_page_folder(api: Api, path: str) -> None:
    """Only files under api/static/ are served."""
    assert api.client.get(path).status_code == 404


def test_page_uses_no_cdn_and_no_key_in_urls() -> None:
    """Every asset is local: no http(s) URL in the page's files; the key only in a header. The
    one URL with a credential is the event stream's, opened by EventSource in api.js with the
    ``events_url`` of a stream token (tests/api/test_api_stream_tokens.py: an API key there is
    refused)."""
    static = Path(__file__).resolve().parents[2] / "api" / "static"
    for f in static.rglob("*"):
        if f.suffix in (".js", ".html", ".css"):
            text = f.read_text(encoding="utf-8")
            assert "https://" not in text and "http://" not in text.replace(
                "http://www.w3.org/2000/svg", ""
            ), f
            assert "localStorage" not in text, f
            if f.name != "api.js":
                assert "EventSource(" not in text, f
    api_js = (static / "api.js").read_text(encoding="utf-8")
    assert api_js.count("new EventSource(") == 1
    assert "/stream-token`" in api_js and "events_url: url" in api_js
    assert "getKey()" not in api_js.split("function readEvents", 1)[1]  # no key near the stream


def test_labels_come_from_the_catalogue(api: Api) -> None:
    """/v1/labels: every code of rotation.i18n.CODES, labelled as the translator labels it."""
    from rotation.i18n import CODES, translator

    for lang in ("vi", "en"):
        body = api.client.get(f"/v1/labels?lang={lang}").json()
        t = translator(lang)
        assert body["lang"] == lang
        for context, code in CODES:
            assert body["labels"][context][code] == t.pgettext(context, code)
    assert api.client.get("/v1/labels?lang=fr").status_code == 422


def test_map_agrees_with_the_summary(api: Api, tiny_id: str) -> None:
    """Per scope the map counts the posts and non-local holders the dataset summary counts."""
    h = api.key("admin")
    m = api.client.get(f"/v1/datasets/{tiny_id}/map", headers=h).json()
    summary = api.client.get(f"/v1/datasets/{tiny_id}", headers=h).json()["summary"]
    by_scope = {c["scope"]: c for c in summary["coverage"]}
    assert m["position"] == "secretary"
    for s in m["scopes"]:
        assert (s["posts"], s["non_local"]) == (
            by_scope[s["scope"]]["posts"],
            by_scope[s["scope"]]["non_local"],
        )
        assert s["target"] == 0.30
    communes = [c for c in m["communes"] if c["post_id"]]
    assert sum(c["non_local"] is True for c in communes) == sum(s["non_local"] for s in m["scopes"])
    assert all(c["lat"] is not None and c["holder_name"] for c in communes)


def test_map_needs_a_key_and_a_known_position(api: Api, tiny_id: str) -> None:
    """No key: 401; a position the dataset lacks: 422 naming it; another dataset id: 404."""
    assert api.client.get(f"/v1/datasets/{tiny_id}/map").status_code == 401
    h = api.key("viewer")
    r = api.client.get(f"/v1/datasets/{tiny_id}/map?position=mayor", headers=h)
    assert r.status_code == 422 and "mayor" in r.text
    assert api.client.get("/v1/datasets/nope/map", headers=h).status_code == 404


def test_map_of_a_scoped_key_stays_in_its_scope(api: Api, tiny_id: str) -> None:
    """A district key sees only its district's communes and scope."""
    m = api.client.get(f"/v1/datasets/{tiny_id}/map", headers=api.key("viewer", "D1")).json()
    assert {s["scope"] for s in m["scopes"]} == {"D1"}
    assert {c["scope"] for c in m["communes"]} == {"D1"}


def test_plan_names_cover_every_id(api: Api, tiny_id: str) -> None:
    """Every cadre, post and unit the plan mentions has a name; incumbents are today's holders."""
    job = api.plan(tiny_id, rules=AS_OF_RULES)
    assert job["status"] == "done", job
    plan_id = job["plan_ids"][0]
    h = api.key("admin")
    plan = api.client.get(f"/v1/plans/{plan_id}", headers=h).json()
    names = api.client.get(f"/v1/plans/{plan_id}/names", headers=h).json()
    for a in plan["assignments"]:
        assert a["cadre_id"] in names["cadres"]
        unit = names["posts"][a["post_id"]]["unit_id"]
        assert unit == a["unit_id"] and names["units"][unit]["name"]
        for alt in a.get("alternatives", []):
            assert alt["cadre_id"] in names["cadres"]
    assert all(c in names["cadres"] for c in plan["released"])
    assert api.client.get("/v1/plans/nope/names", headers=h).status_code == 404


def test_rule_defaults_are_the_rules_model(api: Api) -> None:
    """/v1/rules/defaults is load_rules({}) as JSON: the page's form starts from it."""
    from rotation.rules import load_rules

    got = api.client.get("/v1/rules/defaults").json()["rules"]
    assert got == load_rules({}).model_dump(mode="json")
    assert got["non_local_targets"][0]["min_share"] == 0.30


def test_page_words_every_job_status() -> None:
    """The page words each job status of rotation/status.py in both languages."""
    import re

    from rotation.status import JOB_STATUSES

    text = (Path(__file__).resolve().parents[2] / "api" / "static" / "i18n.js").read_text()
    block = text[text.index("const JOB_STATUS = {") :].split("};", 1)[0]
    for lang in ("vi", "en"):
        line = re.search(rf"^\s*{lang}: \{{(.*)\}},$", block, re.M)
        assert line, lang
        keys = set(re.findall(r"(\w+): \"", line.group(1)))
        assert keys == set(JOB_STATUSES), (lang, keys)
