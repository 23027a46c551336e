"""Remote evaluation over HTTP: the grader server (``osim serve``) and the original client.

* :mod:`osim.http.client` -- ``Client``, API-compatible with the original osim-rl HTTP client;
* :mod:`osim.http.app` -- the FastAPI application speaking the original grader protocol;
* :mod:`osim.http.grading` -- submissions: seeds, simulations, limits and timeouts;
* :mod:`osim.http.worker` -- one process per environment instance;
* :mod:`osim.http.store` -- SQLite persistence (tokens, submissions, simulations, leaderboard);
* :mod:`osim.http.cli` -- the ``osim serve`` and ``osim tokens`` commands.

The server needs the ``grader`` extra (FastAPI, uvicorn); the client needs only ``requests``.
"""
