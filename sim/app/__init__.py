"""The what-if page: levers generated from the scenario schema, policy files, background runs."""
