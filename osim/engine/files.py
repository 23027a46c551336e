"""Tables written as OpenSim ``.sto``/``.mot`` files (OpenSim's own file adapter)."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import opensim


def write_sto(
    path: str | os.PathLike[str],
    labels: Sequence[str],
    times: Sequence[float],
    values: np.ndarray,
    *,
    in_degrees: bool,
    header: str,
) -> None:
    """Write ``values`` (one row per time, one column per label) as an OpenSim storage file.

    The file carries ``inDegrees=yes|no`` and the ``header`` name, as OpenSim's tools write them, so
    that OpenSim's ``TimeSeriesTable``, ``StatesTrajectory`` and the GUI read it.
    """
    table = opensim.TimeSeriesTable()
    table.setColumnLabels(list(labels))
    for time, row in zip(times, values):
        table.appendRow(time, opensim.RowVector.createFromMat(np.ascontiguousarray(row)))
    table.addTableMetaDataString("inDegrees", "yes" if in_degrees else "no")
    table.addTableMetaDataString("header", header)
    opensim.STOFileAdapter.write(table, os.fspath(path))
