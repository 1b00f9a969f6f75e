"""Local analytics with no customer text: what agents do with suggestions, per day and profile.

``Analytics`` records and reads the events; ``Report`` is what the CLI's ``stats``
command and the supervisor's dashboard show.
"""

from copilot.analytics.events import Reason, Source
from copilot.analytics.report import DayRow, Figures, Report, Thumbs
from copilot.analytics.store import Analytics

__all__ = ["Analytics", "DayRow", "Figures", "Reason", "Report", "Source", "Thumbs"]
