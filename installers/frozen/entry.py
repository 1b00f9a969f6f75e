"""The frozen program's entry point: the same ``main`` as the installed ``agent-copilot`` script.

No arguments opens the window (found through the ``agent_copilot.frontends`` entry point in
the bundled metadata); every subcommand works as it does when installed with pip.
"""

from __future__ import annotations

import locale
import multiprocessing
import os
import sys


def _coerce_c_locale() -> None:
    """Switch a plain "C" locale to C.UTF-8, as the python launcher does (PEP 538).

    An embedded interpreter skips that step, and Qt then warns on every start that it
    needs a UTF-8 locale (minimal containers, services and ``env -i`` run in "C").
    """
    if os.environ.get("LC_ALL") or locale.setlocale(locale.LC_CTYPE) not in ("C", "POSIX"):
        return
    for name in ("C.UTF-8", "C.utf8", "UTF-8"):
        try:
            locale.setlocale(locale.LC_CTYPE, name)
        except locale.Error:
            continue
        os.environ["LC_CTYPE"] = name
        return


def run() -> int:
    # The knowledge-base import starts "spawn" workers: in a frozen program they re-run this
    # executable, and freeze_support() turns such a start into the worker instead of the CLI.
    multiprocessing.freeze_support()
    _coerce_c_locale()
    # `agent-copilot bench` measures start-up by running `sys.executable -m copilot`; a frozen
    # executable has no interpreter options, so it takes those two words as "the CLI".
    args = sys.argv[1:]
    if args[:2] == ["-m", "copilot"]:
        args = args[2:]
    from copilot.cli import main

    return main(args)


if __name__ == "__main__":
    sys.exit(run())
