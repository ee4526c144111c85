"""Analysis of saved or in-memory replication records: summaries, confidence intervals, comparisons."""
