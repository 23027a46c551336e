"""The 2019 Redis evaluation protocol (spec §4.2): ``Client`` (participant side) and
``OsimRlRedisService`` (grader side), exchanging msgpack messages through a Redis server.

Needs the ``redis``, ``msgpack`` and ``msgpack-numpy`` packages (the ``grader`` extra).
"""
from osim._optional import require

require("redis", "msgpack", "msgpack_numpy", extra="grader", feature="osim.redis")
