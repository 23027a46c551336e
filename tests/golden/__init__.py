"""Golden trajectories recorded from the original osim-rl releases (format: README.md)."""
from .loader import case_definition, case_names, flatten_state_desc, load_case, state_column

__all__ = ["case_definition", "case_names", "flatten_state_desc", "load_case", "state_column"]
