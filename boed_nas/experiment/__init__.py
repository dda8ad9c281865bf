"""Running searches and benchmarks: the loop, run folders, summaries and plots.

- ``loop``: ``run_search`` (a strategy on NB201's table) and ``run_objective`` (your objective),
  on any engine, with stop rules, timeouts and retries;
- ``runfolder``: the folder a search writes and resumes from (one writer at a time);
- ``bench``: many strategies x seeds x datasets (``boed-nas bench``), the median convention;
- ``report`` and ``plots``: tables and figures from the trajectories; ``run``: the CLI's search.
"""
