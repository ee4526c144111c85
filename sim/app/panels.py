"""One panel's failure stays in that panel: the rest of the page still draws.

Streamlit runs the page script top to bottom; an exception anywhere ends the script, so a figure that
cannot be drawn (a plotting bug on one comparison) blanked everything below it, the table and the map
included. Each panel of the page runs inside :func:`panel`: a user's mistake (:class:`UserError`) shows
its problems, anything else a one-line message naming the panel and the error, with the traceback folded
away for a bug report. Streamlit's own control flow (``st.rerun``, ``st.stop``) passes through.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from sim.errors import UserError

try:  # streamlit's control-flow exceptions: a rerun or a stop is not an error of the panel
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
except ImportError:  # older streamlit
    from streamlit.runtime.scriptrunner.exceptions import RerunException, StopException  # type: ignore


def failure_text(what: str, exc: BaseException) -> str:
    """The message a failed panel shows in its place: which panel, and the error in one line."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{what} could not be shown: {type(exc).__name__}" + (f": {detail}" if detail else "")


@contextmanager
def panel(what: str) -> Iterator[None]:
    """Run one panel of the page; an error in it becomes a message in its place (see the docstring)."""
    try:
        yield
    except (RerunException, StopException):
        raise
    except UserError as exc:
        for p in exc.problems:
            st.error(str(p))
    except Exception as exc:  # the point: a bug in one panel must not blank the page
        st.error(failure_text(what, exc), icon="⚠️")
        with st.expander("Details (for a bug report)"):
            st.code("".join(traceback.format_exception(exc)), language="text")
