"""Studies: run, compare, sweep, calibrate, history. Each returns results and prints nothing."""
