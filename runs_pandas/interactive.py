"""Interactive result tables (sort, search, pages) through itables, when it is installed.

`%config RunsSql.interactive = True` (the `interactive` setting) shows a query's result as
an itables DataTable with the usual footer under it. It works offline: the DataTables
library is embedded in the first interactive output of a kernel (itables' own offline
mode, about 1 MB), so keep that output in the notebook. Without itables the setting
falls back to the plain table and says how to install it, once.
"""

from __future__ import annotations

import html
import importlib.util
import warnings
from typing import Any

import pandas as pd

from runs_pandas import render

INSTALL_HINT = "interactive tables need itables: pip install 'runs_pandas[interactive]'"

_state = {"library_sent": False, "warned": False}


def available() -> bool:
    """itables can be imported here."""
    return importlib.util.find_spec("itables") is not None


def wanted() -> bool:
    """The `interactive` setting is on (in the default session, which the magic keeps in step)."""
    from runs_pandas.session import default_session

    return bool(default_session().settings.interactive)


def frame_html(frame: pd.DataFrame, limit: int | None = None) -> str | None:
    """A query result as an itables table plus the footer; None when not a query result,
    or itables is missing (with a one-time warning naming the install)."""
    info = render.result_info(frame)
    if info is None:
        return None
    if not available():
        if not _state["warned"]:
            _state["warned"] = True
            warnings.warn(INSTALL_HINT, stacklevel=2)
        return None
    import itables
    import itables.options as itables_options
    from itables import javascript

    library = ""
    if not _state["library_sent"]:
        library = javascript.generate_init_offline_itables_html(itables_options.dt_bundle)
        _state["library_sent"] = True
    options: dict[str, Any] = {"connected": False, "showIndex": False, "classes": "display nowrap compact"}
    # displayed as the plain table is: times to the second, durations as 4m16s, blanks
    table = itables.to_html_datatable(render.shown_values(frame), **options)
    footer = render.footer(frame, limit=max(len(frame), 1))  # every row is in the table
    return (
        library + table
        + f'<p class="runs-pandas-footer"><small>{html.escape(footer)}</small></p>'
    )


def reset() -> None:
    """Embed the library again in the next interactive output (a new page, a cleared notebook)."""
    _state["library_sent"] = False
