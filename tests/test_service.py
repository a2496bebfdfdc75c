"""The HTTP service in process (Starlette's TestClient): routes, problems, audit headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from policyrules import __version__, load_policies  # noqa: E402
from policyrules.service import create_app  # noqa: E402

from .conftest import ROOT  # noqa: E402


EXAMPLES = ROOT / "examples"
GUYANG = json.loads((EXAMPLES / "guyang_poor_inpatient.json").read_text(encoding="utf-8"))
BEITA = json.loads((EXAMPLES / "beita_destitute_inpatient.json").read_text(encoding="utf-8"))
NOWHERE = {"person": {"insured_region": "110101"}, "encounter": {"date": "2021-01-01"}}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(max_body=20_000), raise_server_exceptions=False)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["policyrules-version"] == __version__
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) >= {"field", "message", "suggestion"}
    assert "Traceback" not in response.text
    return dict(body)


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["policies"] == len(load_policies())
    assert response.headers["policyrules-version"] == __version__


def test_policies_list_each_with_its_sha256(client: TestClient) -> None:
    listed = client.get("/policies").json()
    loaded = load_policies()
    assert [p["id"] for p in listed] == [p.id for p in loaded]
    for entry, policy in zip(listed, loaded, strict=True):
        assert entry["sha256"] == policy.model.sha256
        assert entry["regions"] == list(policy.model.meta.regions)
        assert entry["document"] == policy.model.meta.document
        assert entry["source_kind"] == policy.model.meta.source_kind
        assert entry["period"]["effective_from"] == policy.model.meta.effective_from.isoformat()


def test_one_policy_has_its_rules_with_citations(client: TestClient) -> None:
    policy = load_policies()["guyang_2020"]
    response = client.get("/policies/guyang_2020")
    assert response.status_code == 200
    rules = response.json()["rules"]
    assert [r["id"] for r in rules] == [r.id for r in policy.model.rules]
    assert rules[0]["citations"][0]["quote"] == policy.model.rules[0].citations[0].quote
    assert response.headers["policyrules-policy"] == f"guyang_2020@{policy.model.sha256}"


def test_an_unknown_policy_is_a_404_problem_naming_the_close_one(client: TestClient) -> None:
    body = _problem(client.get("/policies/guyang_202"), 404)
    assert "guyang_2020" in body["detail"]
    _problem(client.get("/no/such/path"), 404)
    _problem(client.put("/evaluate", json={}), 405)


def test_evaluate_answers_as_the_library_with_audit_headers(client: TestClient) -> None:
    context = GUYANG | {"id": "admission-7"}
    response = client.post("/evaluate", json=context)
    assert response.status_code == 200
    answer = load_policies().evaluate(context)
    assert response.json() == answer.to_dict()
    assert response.json()["id"] == "admission-7"
    assert response.headers["policyrules-policy"] == f"guyang_2020@{answer.sha256}"
    assert response.headers["policyrules-version"] == __version__


def test_evaluate_values(client: TestClient) -> None:
    response = client.post("/evaluate?values=1", json=GUYANG | {"id": 9})
    body = response.json()
    answer = load_policies().evaluate(GUYANG)
    assert body == {"id": 9, "policy": "guyang_2020", "date_used": answer.date_used.isoformat(),
                    "values": answer.values()}


def test_a_batch_is_answered_in_order_a_bad_element_in_place(client: TestClient) -> None:
    batch = [GUYANG | {"id": "a"}, {"id": "b", "person": 3}, BEITA | {"id": "c"}, NOWHERE, "text"]
    response = client.post("/evaluate", json=batch)
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 5
    policies = load_policies()
    assert body[0] == policies.evaluate(batch[0]).to_dict()
    assert body[2] == policies.evaluate(batch[2]).to_dict()
    assert body[1] == {"line": 2, "id": "b", "errors": [
        {"field": "person", "message": "must be an object, not a number", "suggestion": ""}]}
    assert body[3]["line"] == 4 and "id" not in body[3]
    assert body[3]["errors"][0]["field"] == "(context)"
    assert body[3]["errors"][0]["message"].startswith("no policy:")
    assert body[4]["line"] == 5
    sha = {p.id: p.model.sha256 for p in policies}
    assert response.headers["policyrules-policy"] == f"guyang_2020@{sha['guyang_2020']},beita_2021@{sha['beita_2021']}"
    values = client.post("/evaluate?values=1", json=batch[:2]).json()
    assert values[0]["id"] == "a" and values[0]["values"] == policies.evaluate(batch[0]).values()
    assert values[1]["line"] == 2


@pytest.mark.parametrize("flag", ["", "yes", "2"])
def test_a_values_flag_of_another_spelling_is_a_400(client: TestClient, flag: str) -> None:
    problem = _problem(client.post(f"/evaluate?values={flag}", json=GUYANG), 400)
    assert problem["errors"][0]["field"] == "values"


def test_an_empty_batch_is_an_empty_array(client: TestClient) -> None:
    response = client.post("/evaluate", json=[])
    assert response.status_code == 200 and response.json() == []
    assert "policyrules-policy" not in response.headers


@pytest.mark.parametrize("body", [b"{", b"", b"   ", b'{"id": 1, "id": 2}', b"\xff\xfe{}", b"[1,]"])
def test_a_body_that_is_not_json_is_a_400_problem(client: TestClient, body: bytes) -> None:
    problem = _problem(client.post("/evaluate", content=body), 400)
    assert problem["errors"][0]["field"] is None
    _problem(client.post("/explain", content=body), 400)


def test_a_body_over_the_limit_is_a_413_problem(client: TestClient) -> None:
    _problem(client.post("/evaluate", content=b"[" + b"1," * 20_000 + b"1]"), 413)

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(30):
            yield b" " * 1000

    _problem(client.post("/evaluate", content=chunks()), 413)


def test_a_context_error_is_a_422_problem_with_the_fields(client: TestClient) -> None:
    problem = _problem(client.post("/evaluate", json={"person": {"age": "x"}, "encounter": {"date": "2020-13-01"}}), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert {"person.age", "encounter.date"} <= fields
    problem = _problem(client.post("/evaluate", json=[1, 2][0]), 422)
    assert problem["errors"][0]["field"] == "(context)"


def test_no_policy_is_a_422_problem_saying_what_is_covered(client: TestClient) -> None:
    problem = _problem(client.post("/evaluate", json=NOWHERE), 422)
    message = problem["errors"][0]["message"]
    assert message.startswith("no policy:")
    assert "covered:" in message and "guyang_2020" in message
    _problem(client.post("/explain", json=NOWHERE), 422)


def test_explain_is_the_library_explanation(client: TestClient) -> None:
    response = client.post("/explain", json=GUYANG)
    assert response.status_code == 200
    assert response.json() == load_policies().explain(GUYANG).to_dict()
    assert response.headers["policyrules-policy"].startswith("guyang_2020@")


def test_an_unexpected_error_is_a_500_problem_and_the_server_keeps_serving(monkeypatch: Any) -> None:
    app = create_app()
    client = TestClient(app, raise_server_exceptions=False)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.state.store.current.policies, "evaluate", broken)
    problem = _problem(client.post("/evaluate", json=GUYANG), 500)
    assert "a bug" not in json.dumps(problem)
    assert client.get("/health").status_code == 200


def test_the_reload_endpoint_is_off_unless_enabled(client: TestClient) -> None:
    _problem(client.post("/admin/reload"), 404)


def _copy_policies(target: Path) -> Path:
    import shutil

    from policyrules.shipped import shipped_policies_dir

    shutil.copytree(shipped_policies_dir(), target, ignore=shutil.ignore_patterns("cases"))
    return target


def test_a_reload_with_a_bad_edit_keeps_serving_the_old_set(tmp_path: Path, caplog: Any) -> None:
    folder = _copy_policies(tmp_path / "policies")
    client = TestClient(create_app(folder, enable_reload_endpoint=True), raise_server_exceptions=False)
    before = client.post("/evaluate", json=GUYANG)
    assert before.headers["policyrules-generation"] == "1"
    guyang = folder / "guyang_2020.yaml"
    text = guyang.read_text(encoding="utf-8")
    guyang.write_text(text.replace("rules:", "rulez:", 1), encoding="utf-8")
    with caplog.at_level("ERROR", logger="policyrules.service"):
        problem = _problem(client.post("/admin/reload"), 409)
    assert problem["errors"] and "guyang_2020.yaml" in problem["errors"][0]["message"]
    assert any("guyang_2020.yaml:" in record.getMessage() for record in caplog.records)
    after = client.post("/evaluate", json=GUYANG)
    assert after.status_code == 200 and after.json() == before.json()
    assert after.headers["policyrules-generation"] == "1"
    # a good edit is taken, and the answers say which load answered
    guyang.write_text(text + "\n# an edit\n", encoding="utf-8")
    reloaded = client.post("/admin/reload")
    assert reloaded.status_code == 200 and reloaded.json()["generation"] == 2
    answered = client.post("/evaluate", json=GUYANG)
    assert answered.headers["policyrules-generation"] == "2"
    assert answered.headers["policyrules-policy"] != before.headers["policyrules-policy"]
