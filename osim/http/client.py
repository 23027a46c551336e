"""HTTP client of the grader, with the original osim-rl ``Client`` API (spec §4.1).

Typical use: ``client = Client("http://127.0.0.1:8000")``, then the loop of :mod:`osim.submission`
from ``client.env_create(token, env_id="L2M2019Env")``, or :func:`run_submission` for the whole of it.

Every call is a ``POST`` with a JSON body. An error response with a ``message`` raises
:class:`ServerError`; ``env_create`` exits the program with the message, as the original did
(pass ``exit_on_error=False`` to get the exception instead). A grader that cannot be reached or
goes away during a request (crash, restart, network) raises :class:`GraderUnavailable`, a
``ServerError`` that names the request and says the submission was not completed.
"""
from __future__ import annotations

import sys
from typing import Any

import osim
from osim._optional import require
from osim.submission import play_submission

require("requests", extra="client", feature="osim.http.client")

import requests  # noqa: E402  (after the check, for a one-line message)


class ServerError(Exception):
    """The grader refused a request; ``message`` says why, ``status_code`` is the HTTP status."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class GraderUnavailable(ServerError):
    """The grader did not answer a request: it cannot be reached, went away during the request,
    or did not answer within the client's timeout. The submission in progress is not completed
    (a restarted grader lists it as unfinished); start a new one with ``env_create``."""


def _unavailable_message(remote_base: str, method: str, route: str, error: requests.RequestException) -> str:
    """What :class:`GraderUnavailable` says: which request, what happened, what it means."""
    if isinstance(error, requests.Timeout):
        what = "did not answer in time"
    elif isinstance(error, requests.ConnectionError) and "refused" in str(error).lower():
        what = "cannot be reached (connection refused)"
    else:
        what = "went away during the request (connection lost)"
    message = (f"the grader at {remote_base} {what}: {method} {route} got no answer; "
               "the submission in progress was not completed, start a new one with env_create")
    if route.endswith("/monitor/close/"):
        message += " (if the grader scored it before going away, GET /v1/submissions lists it as finished)"
    return message


def _client_version() -> str:
    try:
        from importlib.metadata import version

        return version("osim-rl")
    except Exception:  # noqa: BLE001 - not installed as a distribution (e.g. a source checkout)
        return osim.__version__


class Client:
    """A connection to a grader at ``remote_base`` (e.g. ``"http://127.0.0.1:8000"``).

    Args:
        remote_base: the grader's base URL.
        timeout: seconds to wait for each response (keyword only; the original had none).
    """

    def __init__(self, remote_base: str, *, timeout: float = 300.0) -> None:
        self.remote_base = remote_base.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Content-type": "application/json"})
        self.instance_id: str | None = None
        self.last_submission: dict[str, Any] | None = None

    # -- transport --------------------------------------------------------------------------------

    def _send(self, method: str, route: str, data: Any = None) -> requests.Response:
        """One HTTP request; a grader that does not answer raises :class:`GraderUnavailable`."""
        try:
            return self.session.request(method, self.remote_base + route, json=data, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise GraderUnavailable(_unavailable_message(self.remote_base, method, route, error)) from error

    def _post_request(self, route: str, data: Any) -> Any:
        return self._parse(self._send("POST", route, data))

    def _get_request(self, route: str) -> Any:
        return self._parse(self._send("GET", route))

    @staticmethod
    def _parse(response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            if not response.ok:
                response.raise_for_status()
            return None
        try:
            payload = response.json()
        except ValueError:
            response.raise_for_status()
            raise ServerError(f"the grader sent a response that is not JSON: {response.text[:200]!r}",
                              response.status_code) from None
        if not response.ok:
            if isinstance(payload, dict) and "message" in payload:
                raise ServerError(str(payload["message"]), response.status_code)
            response.raise_for_status()
        return payload

    def _route(self, suffix: str) -> str:
        if self.instance_id is None:
            raise ServerError("no environment instance: call env_create(token) first")
        return f"/v1/envs/{self.instance_id}/{suffix}"

    # -- the original API -------------------------------------------------------------------------

    def env_create(self, token: str, env_id: str = "Run", *, exit_on_error: bool = True) -> Any:
        """Create an instance, start its monitor and return the first observation."""
        data = {"env_id": env_id, "token": token, "version": _client_version()}
        try:
            self.instance_id = self._post_request("/v1/envs/", data)["instance_id"]
        except ServerError as error:
            if exit_on_error:
                sys.exit(error.message)
            raise
        self.env_monitor_start("tmp", force=True)
        return self.env_reset()

    def env_reset(self) -> Any:
        """Start the next simulation; a falsy observation means the submission has run them all."""
        return self._post_request(self._route("reset/"), None)["observation"]

    def env_step(self, action: Any, render: bool = False) -> list:
        """One step; returns ``[observation, reward, done, info]``."""
        if hasattr(action, "tolist"):
            action = action.tolist()
        result = self._post_request(self._route("step/"), {"action": action, "render": render})
        return [result["observation"], result["reward"], result["done"], result["info"]]

    def env_monitor_start(self, directory: str, force: bool = False, resume: bool = False,
                          video_callable: bool = False) -> None:
        """Send the original's monitor-start request (before the first reset)."""
        self._post_request(self._route("monitor/start/"), {
            "directory": directory, "force": force, "resume": resume, "video_callable": video_callable,
        })

    def env_monitor_close(self) -> dict[str, Any]:
        """Score the submission; returns the grader's result (``reward`` is the total)."""
        return self._post_request(self._route("monitor/close/"), None)

    def submit(self) -> float | None:
        """Score the submission, print the total reward, close the instance; returns the total.

        A refusal is printed and gives ``None``; a grader that does not answer raises
        :class:`GraderUnavailable`.
        """
        try:
            self.last_submission = self.env_monitor_close()
        except GraderUnavailable:
            raise  # not a refusal: whether the grader scored it is unknown
        except ServerError as error:
            print(f"The grader did not accept the submission: {error.message}")
            return None
        total = self.last_submission["reward"]
        print(f"Your total reward from this submission: {total:f}")
        self.env_close()
        return total

    def env_close(self) -> None:
        """Close the instance on the grader."""
        self._post_request(self._route("close/"), None)


def run_submission(client: Client, token: str, env_id: str, policy: Any, *, max_requests: int = 10**7) -> float | None:
    """The standard client loop: create, step with ``policy(observation)`` until the grader's reset
    returns nothing, submit. Returns the total reward (``None`` if the grader refused to score).

    ``max_requests`` bounds the loop against a grader that never ends a simulation.
    """
    observation = client.env_create(token, env_id, exit_on_error=False)
    total: float | None = play_submission(client, observation, policy, max_requests=max_requests, error=ServerError)
    return total
