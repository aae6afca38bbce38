from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from fastapi import FastAPI
from portal.common.v1 import common_pb2

from gateway import problems
from gateway.api.projects import StageChange
from gateway.deps import RequestIdDep
from gateway.problems import MEDIA_TYPE, from_rpc_error, respond
from services.chassis.grpc_client import ERROR_DETAIL_KEY


def rpc_error(
    code: grpc.StatusCode, details: str = "", detail: common_pb2.ErrorDetail | None = None
) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata()
    if detail is not None:
        trailing = grpc.aio.Metadata((ERROR_DETAIL_KEY, detail.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=details)


@pytest.mark.parametrize(
    ("code", "status", "type_"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422, "https://portal.dev/problems/invalid-request"),
        (grpc.StatusCode.NOT_FOUND, 404, "https://portal.dev/problems/not-found"),
        (grpc.StatusCode.ALREADY_EXISTS, 409, "https://portal.dev/problems/already-exists"),
        (grpc.StatusCode.FAILED_PRECONDITION, 409, "https://portal.dev/problems/not-allowed-now"),
        (grpc.StatusCode.ABORTED, 409, "https://portal.dev/problems/conflict"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "https://portal.dev/problems/forbidden"),
        (grpc.StatusCode.UNAUTHENTICATED, 401, "https://portal.dev/problems/unauthenticated"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "https://portal.dev/problems/timeout"),
        (grpc.StatusCode.UNAVAILABLE, 503, "https://portal.dev/problems/unavailable"),
        (grpc.StatusCode.INTERNAL, 500, "about:blank"),
        (grpc.StatusCode.UNKNOWN, 500, "about:blank"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "https://portal.dev/problems/too-many-requests"),
    ],
)
def test_each_grpc_status_maps_to_its_http_problem(
    code: grpc.StatusCode, status: int, type_: str
) -> None:
    error = from_rpc_error(rpc_error(code, "boom"), service="projects")
    assert (error.problem.status, error.problem.type) == (status, type_)
    assert error.problem.title and error.problem.detail


def test_the_services_message_code_and_fields_reach_the_client_unchanged() -> None:
    detail = common_pb2.ErrorDetail(code="invalid_transition", message="already in commissioning")
    detail.field_violations.add(field="stage", description="already in commissioning")
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "x", detail), service="projects"
    )
    body = error.problem.model_dump(by_alias=True, exclude_none=True)
    assert body["status"] == 409
    assert body["detail"] == "already in commissioning"
    assert body["code"] == "invalid_transition"
    assert body["errors"] == [{"field": "stage", "message": "already in commissioning"}]


def test_a_stable_code_decides_the_status_whatever_the_words() -> None:
    detail = common_pb2.ErrorDetail(code="file_too_large", message="over 5 MB")
    too_large = from_rpc_error(
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "x", detail), service="documents"
    )
    assert (too_large.problem.status, too_large.problem.code) == (413, "file_too_large")
    assert too_large.problem.detail == "over 5 MB"
    # Words alone decide nothing: the same refusal without the code is a 422.
    words = common_pb2.ErrorDetail(code="invalid_argument", message="the file is too large")
    plain = from_rpc_error(
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "too large", words), service="documents"
    )
    assert plain.problem.status == 422


def test_without_an_error_detail_the_status_message_is_used() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.NOT_FOUND, "no such project"), service="p")
    assert error.problem.detail == "no such project"
    assert error.problem.code == "not_found"


def test_an_unexpected_failure_hides_the_services_internals() -> None:
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.INTERNAL, 'relation "project" does not exist'),
        service="projects",
    )
    assert error.problem.status == 500
    assert "relation" not in error.problem.model_dump_json()


def test_an_unavailable_service_is_named_and_a_retry_suggested() -> None:
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"),
        service="projects",
    )
    assert error.problem.detail == "The projects service is unavailable; try again shortly."
    assert "connect" not in error.problem.detail
    assert error.headers["Retry-After"] == "1"


def test_a_401_carries_a_bearer_challenge() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.UNAUTHENTICATED), service="identity")
    assert error.headers["WWW-Authenticate"] == "Bearer"


def test_api_paths_get_problem_json_and_pages_get_html() -> None:
    error = problems.no_portal_here()
    api = respond(error, path="/api/v1/projects")
    assert api.status_code == 404
    assert api.media_type == MEDIA_TYPE
    assert b'"instance":"/api/v1/projects"' in api.body
    page = respond(error, path="/projects/<script>")
    assert page.status_code == 404
    assert page.media_type == "text/html"
    assert b"<script>" not in page.body
    assert b"Not found" in page.body


# FastAPI's own errors, through a small app with the same handlers.
def small_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.post("/api/v1/projects/{project_id}/stage")
    async def change(
        project_id: uuid.UUID,
        body: StageChange,
        request_id: RequestIdDep,
    ) -> dict[str, str]:
        return {"stage": body.stage, "request_id": request_id}

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=small_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://acme.localhost") as c:
        yield c


async def test_bad_fields_answer_422_listing_each(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/projects/not-a-uuid/stage", json={"stage": "banana", "colour": "red"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == MEDIA_TYPE
    body = r.json()
    assert body["type"] == "https://portal.dev/problems/invalid-request"
    assert body["instance"] == "/api/v1/projects/not-a-uuid/stage"
    fields = {(e["in"], e["field"]) for e in body["errors"]}
    assert fields == {("path", "project_id"), ("body", "stage"), ("body", "colour")}
    assert "project_id" in body["detail"] and "stage" in body["detail"]


async def test_a_body_that_is_not_json_is_described_as_such(client: httpx.AsyncClient) -> None:
    r = await client.post(
        f"/api/v1/projects/{uuid.uuid4()}/stage",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["in"] == "body" and "field" not in error
    assert "not valid JSON" in error["message"]


async def test_an_overlong_idempotency_key_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(
        f"/api/v1/projects/{uuid.uuid4()}/stage",
        json={"stage": "install"},
        headers={"Idempotency-Key": "k" * 101},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    r = await client.post(
        f"/api/v1/projects/{uuid.uuid4()}/stage",
        json={"stage": "install"},
        headers={"Idempotency-Key": "click-1"},
    )
    assert r.json() == {"stage": "install", "request_id": "click-1"}


async def test_unknown_routes_and_methods_answer_problems(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert (r.status_code, r.headers["content-type"]) == (404, MEDIA_TYPE)
    assert r.json()["code"] == "not_found"
    r = await client.get(f"/api/v1/projects/{uuid.uuid4()}/stage")
    assert (r.status_code, r.headers["content-type"]) == (405, MEDIA_TYPE)
    assert r.headers["allow"] == "POST"
    assert "GET" in r.json()["detail"]


async def test_an_unexpected_exception_is_a_500_problem_without_internals(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/boom")
    assert (r.status_code, r.headers["content-type"]) == (500, MEDIA_TYPE)
    assert "secret" not in r.text


def test_a_service_with_no_room_for_the_call_is_a_503_with_retry_after():
    """chassis.admission's refusal: 503 `overloaded`, not 429 (the client did
    nothing too often; the portal is busy), and a Retry-After."""
    err = rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        detail=common_pb2.ErrorDetail(
            code="overloaded", message="too many approvals at once", retry_after_seconds=1
        ),
    )
    problem = from_rpc_error(err, service="changeorders")
    assert problem.problem.status == 503
    assert problem.problem.type == "https://portal.dev/problems/overloaded"
    assert problem.headers["Retry-After"] == "1"
