"""Builders of the data the package ships and slow correctness checks, run from the repository root
as modules (``python -m tools.<name>``); see tools/README.md."""
