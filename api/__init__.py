"""The HTTP service (FastAPI) over the ``rotation`` library: datasets, plan jobs, plans, keys."""
