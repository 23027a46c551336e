"""The participant's loop, the same over HTTP (:mod:`osim.http.client`) and Redis (:mod:`osim.redis.client`).

Both clients keep the original ``Client`` API, and the original examples drove them with the same
loop, unchanged since 2017::

    observation = client.env_create(...)
    while True:
        observation, reward, done, info = client.env_step(policy(observation))
        if done:
            observation = client.env_reset()
            if not observation:
                break
    client.submit()

:func:`play_submission` is that loop, once, for both transports (their ``run_submission`` call it).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class GraderSession(Protocol):
    """What the loop needs of a client: the original API's step, reset and submit."""

    def env_step(self, action: Any, render: bool = False) -> list:
        """One step; returns ``[observation, reward, done, info]``."""
        ...

    def env_reset(self) -> Any:
        """The next simulation's first observation; falsy when the grader has run them all."""
        ...

    def submit(self) -> Any:
        """Score the submission; returns what the grader answered."""
        ...


def play_submission(client: GraderSession, observation: Any, policy: Callable[[Any], Any], *,
                    max_requests: int = 10**7, error: type[Exception] = RuntimeError) -> Any:
    """From ``observation`` (what ``env_create`` returned), step ``client`` with ``policy(observation)``
    until the grader's reset returns nothing, then submit; returns what ``client.submit()`` returns.

    ``max_requests`` bounds the loop against a grader that never ends a simulation: past it, ``error``
    (the transport's own exception class) is raised.
    """
    for _ in range(max_requests):
        observation, _reward, done, _info = client.env_step(policy(observation))
        if done:
            observation = client.env_reset()
            if not observation:
                return client.submit()
    raise error(f"the grader did not end the submission within {max_requests} steps")
