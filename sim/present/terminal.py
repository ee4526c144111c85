"""The terminal, as the commands use it: one name for the text layer's parts, each in a module of its own.

- :mod:`sim.present.console`: where text goes (results to stdout, messages through ``logging`` to stderr);
- :mod:`sim.present.progress_bars`: progress bars and failed replications;
- :mod:`sim.present.cells`: the text of a cell (a mean with its interval, "not modelled", a group's name),
  shared with the report and the what-if page;
- :mod:`sim.present.layout`: tables that fit the window;
- :mod:`sim.present.tables`: every command's result tables, in the four formats.

Studies return results and print nothing; the command line hands them to the functions here.
"""

from __future__ import annotations

from sim.present.cells import (
    NO_VALUE,
    NOT_MODELLED,
    ONE_REPLICATION,
    ci_text,
    diff_cell,
    group_label,
    interval_note,
    metric_label,
    modelled,
    one_line,
    value_cell,
)
from sim.present.console import (
    FORMATS,
    configure_logging,
    detail,
    err_console,
    error,
    hint,
    note,
    out_console,
    quiet,
    say,
    warning,
)
from sim.present.layout import Block, Layout, choose, emit, width_needed
from sim.present.progress_bars import ProgressBars, report_failures
from sim.present.tables import (
    LIST_COLUMNS,
    RUN_COLUMNS,
    SWEEP_COLUMNS,
    backlog_layouts,
    comparison_layouts,
    history_layouts,
    list_layouts,
    observed_layouts,
    print_backlog,
    print_comparison,
    print_history,
    print_listing,
    print_observed,
    print_run_summary,
    print_saved_table,
    print_sweep,
    run_layouts,
    sweep_layouts,
)

__all__ = [
    "FORMATS",
    "LIST_COLUMNS",
    "NOT_MODELLED",
    "NO_VALUE",
    "ONE_REPLICATION",
    "RUN_COLUMNS",
    "SWEEP_COLUMNS",
    "Block",
    "Layout",
    "ProgressBars",
    "backlog_layouts",
    "choose",
    "ci_text",
    "comparison_layouts",
    "configure_logging",
    "detail",
    "diff_cell",
    "emit",
    "err_console",
    "error",
    "group_label",
    "hint",
    "history_layouts",
    "interval_note",
    "list_layouts",
    "metric_label",
    "modelled",
    "note",
    "observed_layouts",
    "one_line",
    "out_console",
    "print_backlog",
    "print_comparison",
    "print_history",
    "print_listing",
    "print_observed",
    "print_run_summary",
    "print_saved_table",
    "print_sweep",
    "quiet",
    "report_failures",
    "run_layouts",
    "say",
    "sweep_layouts",
    "value_cell",
    "warning",
    "width_needed",
]
