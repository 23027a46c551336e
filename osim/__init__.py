"""osim-rl: reinforcement-learning environments for musculoskeletal models on OpenSim."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("osim-rl")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from osim.registration import register_environments as _register_environments

_register_environments()
