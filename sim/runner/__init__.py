"""The runner: the only code that runs replications (a local process pool or Dask, behind one interface)."""
