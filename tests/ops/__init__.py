# eakte.metrics chooses prometheus_client's multiprocess mode, which must happen before anything
# imports prometheus_client (as eakte serve does by importing web first).
from eakte import metrics as _metrics  # noqa: F401
