"""Keys and serialisation shared by the Redis client and service.

Messages are msgpack with NumPy support (``msgpack_numpy``, ``use_bin_type=True``), as the 2019
graders used; each is a dict ``{"type", "payload", "response_channel"}`` pushed to the service's
command list; the reply is pushed to the response channel, a list key unique to the request.
"""
from __future__ import annotations

import math
import os
import secrets
from collections.abc import Sequence
from typing import Any

import msgpack
import msgpack_numpy

NAMESPACE = "osim-rl"
#: Environment variable naming the service, and its default (the original's).
SERVICE_ID_VARIABLE = "osim_rl_redis_service_id"
DEFAULT_SERVICE_ID = "osim_rl_redis_service_id"


def default_service_id() -> str:
    """The service id from the environment, or the default one."""
    return os.environ.get(SERVICE_ID_VARIABLE, DEFAULT_SERVICE_ID)


def commands_key(service_id: str) -> str:
    """The Redis list that service ``service_id`` reads its commands from."""
    return f"{NAMESPACE}::{service_id}::commands"


def new_response_channel(service_id: str) -> str:
    """A new, unique Redis key for the answer to one command."""
    return f"{NAMESPACE}::{service_id}::response::{secrets.token_hex(16)}"


def pack(message: dict[str, Any]) -> bytes:
    """``message`` as msgpack bytes (NumPy arrays included)."""
    return msgpack.packb(message, default=msgpack_numpy.encode, use_bin_type=True)


def unpack(data: bytes) -> Any:
    """The message encoded in msgpack ``data``."""
    return msgpack.unpackb(data, object_hook=msgpack_numpy.decode, raw=False)


def unpack_popped(answer: Sequence[Any], what: str) -> Any:
    """The message of a BLPOP/BRPOP ``answer`` (key, value); ``TypeError`` naming ``what`` when the
    value is not bytes (the connection must not decode responses)."""
    data = answer[1]
    if not isinstance(data, bytes):
        raise TypeError(f"{what} must be msgpack bytes, got {type(data).__name__}")
    return unpack(data)


def blocking_seconds(seconds: float | None) -> int:
    """The timeout BLPOP/BRPOP take for ``seconds``: whole seconds, at least 1; ``None`` gives 0,
    which blocks forever."""
    return 0 if seconds is None else max(1, math.ceil(seconds))
