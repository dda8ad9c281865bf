"""NAS-Bench-201, shipped offline: the cell space, its table of results, its networks and signals.

- ``space``: ``Cell`` (six edges, five ops; arch strings, isomorphism classes, NASLib's op
  indices) and ``CELL_SPACE``, the space every strategy searches by default;
- ``benchmark``: ``NB201Benchmark``, the table answering queries as one training would (200 or
  12 epochs), with its ledger of cost;
- ``encodings``: one-hot, path and Weisfeiler-Lehman features of cells;
- ``network``: the NB201 network of a cell (PyTorch), FLOPs and parameters;
- ``signals``: signals at initialisation, computed and shipped for every class;
- ``data/``: the tables, with ``PROVENANCE.md``.
"""
