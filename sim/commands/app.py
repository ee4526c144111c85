"""``app``: the what-if page in the browser (Streamlit), on this machine only."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from sim.commands.options import Parents
from sim.errors import UserError

PAGE = Path(__file__).resolve().parent.parent / "app" / "page.py"


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add ``bordersim app`` to the command line."""
    app = sub.add_parser(
        "app",
        parents=[p.root],
        help="start the what-if page in the browser (http://localhost:8501)",
    )
    app.add_argument("--port", type=int, default=8501, help="port on localhost (default 8501)")
    app.add_argument(
        "--scenarios",
        type=Path,
        default=Path("scenarios"),
        help="folder of base scenarios (default scenarios/)",
    )
    app.set_defaults(handler=cmd_app)


def streamlit_command(port: int, results_root: Path, scenarios: Path) -> list[str]:
    """``streamlit run`` of the page: bound to localhost, headless, no usage statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", str(PAGE),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--",
        "--results-root", str(Path(results_root).resolve()),
        "--scenarios", str(Path(scenarios).resolve()),
    ]  # fmt: skip


def cmd_app(args: argparse.Namespace) -> int:
    """Check the options and hand this process over to the Streamlit server of the page."""
    if not 1 <= args.port <= 65535:
        raise UserError.single(None, "--port", f"must be a port number from 1 to 65535 (got {args.port})")
    if not args.scenarios.is_dir():
        raise UserError.single(str(args.scenarios), "--scenarios", "no such folder of scenario files")
    if importlib.util.find_spec("streamlit") is None:
        raise UserError.single(None, "app", "needs Streamlit, an optional extra: pip install -e '.[app]'")
    print(f"the what-if page: http://localhost:{args.port} (Ctrl-C stops it)", flush=True)
    command = streamlit_command(args.port, args.results_root, args.scenarios)
    os.execv(command[0], command)  # the page server takes this process's place (and its Ctrl-C)
    return 0  # not reached
