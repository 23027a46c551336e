"""A logged episode for the export tests: one helper, so each test file says only which env and actions."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from osim.motion import EpisodeLog


def record_episode(env: Any, actions: Iterable[Any]) -> tuple[EpisodeLog, list[dict[str, Any]]]:
    """Reset ``env``, step it with ``actions`` and return its :class:`EpisodeLog` and every state
    description (the first one after the reset), kept independently of the log."""
    env.reset()
    log = EpisodeLog(env)
    log.record()
    descriptions = [env.get_state_desc()]
    for action in actions:
        _, reward, _, info = env.step(action)
        log.record(reward, info.get("reward_terms"))
        descriptions.append(env.get_state_desc())
    return log, descriptions
