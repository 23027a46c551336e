"""Remote evaluation over HTTP: the grader server (``osim serve``) and the original client.

* :mod:`osim.http.client` -- ``Client``, API-compatible with the original osim-rl HTTP client;
* :mod:`osim.http.app` -- the FastAPI application speaking the original grader protocol;
* :mod:`osim.http.grading` -- submissions: seeds, simulations, limits and timeouts;
* :mod:`osim.http.worker` -- one process per environment instance;
* :mod:`osim.http.store` -- persistence in SQLite or PostgreSQL (tokens, submissions, simulations,
  leaderboard);
* :mod:`osim.http.pages` -- the leaderboard page;
* :mod:`osim.http.testing` -- a grader in a child process and a local replay of what it should score.
* :mod:`osim.http.loadtest` -- latency and throughput of a grader with N clients (the benchmark).

The server needs FastAPI and uvicorn (``psycopg`` for PostgreSQL); the client needs only ``requests``.
The ``osim serve`` and ``osim tokens`` commands are :mod:`osim.cli.serve`. See docs/grader.md.
"""
