"""The grader's HTTP application (FastAPI): the original protocol, the leaderboard, the schema.

Routes of the original grader (spec §4.1), all ``POST`` with a JSON body:

* ``/v1/envs/`` ``{"env_id", "token", "version"}`` -> ``{"instance_id"}``
* ``/v1/envs/{id}/monitor/start/`` -> 204
* ``/v1/envs/{id}/reset/`` -> ``{"observation"}`` (``null`` once every simulation has run)
* ``/v1/envs/{id}/step/`` ``{"action", "render"}`` -> ``{"observation", "reward", "done", "info"}``
* ``/v1/envs/{id}/monitor/close/`` -> ``{"reward": total, ...}``
* ``/v1/envs/{id}/close/`` -> 204

Read-only: ``GET /leaderboard`` (HTML), ``GET /leaderboard.json``, ``GET /v1/submissions``,
``GET /v1/submissions/{id}``, ``GET /health``, ``GET /openapi.json``. Every error is JSON
``{"message": ...}`` with a 4xx status for the caller's mistakes.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt
from starlette.exceptions import HTTPException as StarletteHTTPException

from osim.http.grading import Grader, GraderConfig, GraderError
from osim.http.pages import LEADERBOARD_HTML
from osim.http.store import Store

log = logging.getLogger(__name__)

#: Largest request body accepted (an action of a few hundred numbers needs a few kB).
MAX_BODY_BYTES = 256 * 1024
#: Longest action accepted before it reaches an environment.
MAX_ACTION_LENGTH = 1000


class ErrorMessage(BaseModel):
    """The body of an error response."""

    message: str


class CreateRequest(BaseModel):
    """Create an environment instance for a participant's token."""

    model_config = ConfigDict(extra="ignore")
    env_id: str = Field(min_length=1, max_length=100, description="environment id, e.g. 'L2M2019Env'")
    token: str = Field(min_length=1, max_length=200, description="the participant's token")
    version: str | None = Field(default=None, max_length=100, description="client's osim-rl version")


class CreateResponse(BaseModel):
    """The new instance's id."""

    instance_id: str


class StepRequest(BaseModel):
    """One action of the current simulation."""

    model_config = ConfigDict(extra="ignore")
    action: list[StrictFloat | StrictInt] = Field(
        max_length=MAX_ACTION_LENGTH, description="one excitation in [0, 1] per muscle"
    )
    render: StrictBool = False


class StepResponse(BaseModel):
    """The result of a step: observation, reward, done and info."""

    observation: Any
    reward: float | None
    done: bool
    info: dict[str, Any]


class ResetResponse(BaseModel):
    """The next simulation's first observation."""

    observation: Any = Field(description="first observation of the next simulation; null when all have run")


class MonitorStartRequest(BaseModel):
    """The original's monitor options (the directory is ignored)."""

    model_config = ConfigDict(extra="ignore")
    directory: str | None = Field(default=None, max_length=1000)
    force: StrictBool = False
    resume: StrictBool = False
    video_callable: StrictBool | None = False


class SubmitResponse(BaseModel):
    """The submission's score."""

    reward: float = Field(description="total reward over all simulations")
    mean_reward: float
    simulation_rewards: list[float]
    simulation_times: list[float]
    submission_id: int
    engine: str = Field(description="the physics engine that ran the simulations (opensim, mujoco)")


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorMessage} for status in (400, 401, 404, 409, 410, 413, 422, 429, 502, 503, 504)
}


#: What each route's body should look like, quoted in validation errors (by path suffix).
_EXPECTED_BODIES = {
    "/step/": '{"action": [one number in [0, 1] per muscle], "render": false}',
    "/monitor/start/": '{"directory": "tmp", "force": false, "resume": false, "video_callable": false}',
    "/v1/envs/": '{"env_id": "L2M2019Env", "token": "your token", "version": "4.0.0"}',
}


def _validation_message(error: RequestValidationError, path: str) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    message = "invalid request: " + "; ".join(parts)
    expected = next((body for suffix, body in _EXPECTED_BODIES.items() if path.endswith(suffix)), None)
    return f"{message}; expected a JSON body like {expected}" if expected else message


def create_app(config: GraderConfig, store: Store, reclaim_interval: float | None = None) -> FastAPI:
    """The grader application. ``reclaim_interval``: seconds between idle checks (default: a
    quarter of the idle timeout, at most 10 s)."""
    grader = Grader(config, store)
    interval = reclaim_interval or min(config.idle_timeout / 4, 10.0)

    async def reclaim_forever() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                reclaimed = await grader.reclaim_idle()
                if reclaimed:
                    log.info("reclaimed idle instances %s", reclaimed)
            except Exception:
                log.exception("reclaiming idle instances failed")

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(reclaim_forever())
        try:
            yield
        finally:
            task.cancel()
            await grader.shutdown()

    app = FastAPI(
        title="osim-rl grader",
        version="1",
        description="Remote evaluation of osim-rl controllers (the original osim-rl grader protocol).",
        lifespan=lifespan,
    )
    app.state.grader = grader

    @app.middleware("http")
    async def limit_body_size(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse(
                {"message": f"request body too large (at most {MAX_BODY_BYTES} bytes)"}, status_code=413
            )
        if request.url.path.startswith("/v1/envs") and "json" not in request.headers.get("content-type", ""):
            # Bodies of the protocol are always JSON, whatever a client's header says.
            request.scope["headers"] = [
                *(item for item in request.scope["headers"] if item[0] != b"content-type"),
                (b"content-type", b"application/json"),
            ]
        return await call_next(request)

    @app.exception_handler(GraderError)
    async def grader_error(_: Request, error: GraderError) -> JSONResponse:
        return JSONResponse({"message": error.message}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"message": _validation_message(error, request.url.path)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"message": str(error.detail)}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception) -> JSONResponse:
        log.exception("internal error")
        return JSONResponse({"message": f"internal error: {type(error).__name__}"}, status_code=500)

    # -- the original protocol ------------------------------------------------------------------

    @app.post("/v1/envs/", response_model=CreateResponse, responses=_ERRORS, tags=["protocol"])
    async def env_create(body: CreateRequest) -> CreateResponse:
        """Create an environment instance: one submission of ``len(seeds)`` simulations."""
        return CreateResponse(instance_id=await grader.create(body.token, body.env_id, body.version))

    @app.post("/v1/envs/{instance_id}/monitor/start/", status_code=204, responses=_ERRORS, tags=["protocol"])
    async def env_monitor_start(
        instance_id: Annotated[str, Field(max_length=100)], body: MonitorStartRequest | None = None,
    ) -> Response:
        """Start recording (accepted before the first reset; the directory is ignored)."""
        await grader.monitor_start(instance_id)
        return Response(status_code=204)

    @app.post("/v1/envs/{instance_id}/reset/", response_model=ResetResponse, responses=_ERRORS,
              tags=["protocol"])
    async def env_reset(instance_id: Annotated[str, Field(max_length=100)]) -> ResetResponse:
        """Start the next simulation; ``observation`` is null when every simulation has run."""
        return ResetResponse(observation=await grader.reset(instance_id))

    @app.post("/v1/envs/{instance_id}/step/", response_model=StepResponse, responses=_ERRORS,
              tags=["protocol"])
    async def env_step(instance_id: Annotated[str, Field(max_length=100)], body: StepRequest) -> StepResponse:
        """Apply one action for one step of the current simulation."""
        return StepResponse(**await grader.step(instance_id, [float(value) for value in body.action]))

    @app.post("/v1/envs/{instance_id}/monitor/close/", response_model=SubmitResponse, responses=_ERRORS,
              tags=["protocol"])
    async def env_monitor_close(instance_id: Annotated[str, Field(max_length=100)]) -> SubmitResponse:
        """Score the submission (all simulations must have ended)."""
        return SubmitResponse(**await grader.monitor_close(instance_id))

    @app.post("/v1/envs/{instance_id}/close/", status_code=204, responses=_ERRORS, tags=["protocol"])
    async def env_close(instance_id: Annotated[str, Field(max_length=100)]) -> Response:
        """Close the instance (an unscored submission is recorded as unfinished)."""
        await grader.close(instance_id)
        return Response(status_code=204)

    # -- read-only views --------------------------------------------------------------------------

    def _public(submission: dict[str, Any]) -> dict[str, Any]:
        """A submission without its seeds (they are the challenge's secret)."""
        hidden = {key: value for key, value in submission.items() if key != "seeds"}
        hidden["simulation_count"] = len(submission["seeds"])
        hidden["simulations"] = [
            {key: value for key, value in sim.items() if key != "seed"} for sim in submission["simulations"]
        ]
        return hidden

    @app.get("/leaderboard.json", tags=["leaderboard"], responses=_ERRORS)
    async def leaderboard_json(
        env_id: Annotated[str | None, Query(max_length=100)] = None,
        engine: Annotated[str | None, Query(max_length=100)] = None,
    ) -> dict[str, Any]:
        """Best finished submission per participant on one engine (default: this grader's), ranked by
        mean reward per simulation; ``engines`` lists the engines with scores for this environment."""
        chosen = env_id or config.env_ids[0]
        chosen_engine = engine or config.engine
        entries = await anyio.to_thread.run_sync(store.leaderboard, chosen, chosen_engine)
        known = await anyio.to_thread.run_sync(store.env_ids)
        env_ids = list(dict.fromkeys([*config.env_ids, *known]))
        scored_on = await anyio.to_thread.run_sync(store.engines, chosen)
        engines = sorted({config.engine, *scored_on})
        return {"env_id": chosen, "engine": chosen_engine, "env_ids": env_ids, "engines": engines,
                "entries": entries}

    @app.get("/leaderboard", response_class=HTMLResponse, tags=["leaderboard"])
    async def leaderboard_page() -> HTMLResponse:
        """The leaderboard page (renders /leaderboard.json in the browser)."""
        return HTMLResponse(LEADERBOARD_HTML)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/leaderboard")

    @app.get("/v1/submissions", tags=["leaderboard"], responses=_ERRORS)
    async def submissions(
        env_id: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        engine: Annotated[str | None, Query(max_length=100)] = None,
    ) -> list[dict[str, Any]]:
        """Recent submissions, newest first, with status (running, finished or unfinished) and engine."""
        found = await anyio.to_thread.run_sync(
            lambda: store.submissions(env_id=env_id, limit=limit, engine=engine))
        return [_public(item) for item in found]

    @app.get("/v1/submissions/{submission_id}", tags=["leaderboard"], responses=_ERRORS)
    async def submission(submission_id: Annotated[int, Field(ge=0, le=2**62)]) -> dict[str, Any]:
        found = await anyio.to_thread.run_sync(store.submission, submission_id)
        if found is None:
            raise GraderError(404, f"no submission {submission_id}")
        return _public(found)

    @app.get("/health", tags=["leaderboard"])
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "instances": grader.instance_count(),
            "env_ids": list(config.env_ids),
            "engine": config.engine,
            "simulations_per_submission": grader.simulations,
            "max_steps": config.max_steps,
        }

    return app
