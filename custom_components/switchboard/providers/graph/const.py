"""Microsoft's clouds, and what the graph modules share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class GraphCloud:
    """The roots of one Microsoft cloud."""

    graph_url: str
    login_url: str
    scope: str


CLOUDS: Final[dict[str, GraphCloud]] = {
    "global": GraphCloud(
        "https://graph.microsoft.com",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com/.default",
    ),
    # US Government L4 (GCC High).
    "usgov": GraphCloud(
        "https://graph.microsoft.us",
        "https://login.microsoftonline.us",
        "https://graph.microsoft.us/.default",
    ),
    # US Government L5 (DoD). The scope follows the documented rule that .default
    # uses the national Graph domain; no DoD example is given (UNCONFIRMED).
    "dod": GraphCloud(
        "https://dod-graph.microsoft.us",
        "https://login.microsoftonline.us",
        "https://dod-graph.microsoft.us/.default",
    ),
}
# Notification tokens are signed with these keys; the national-cloud equivalents
# are undocumented (UNCONFIRMED), so the URL can be overridden.
OPENID_CONFIGURATION_PATH: Final = "/v1/.well-known/OpenIdConfiguration"
OPENID_CONFIGURATION_URL: Final = (
    f"https://api.aps.skype.com{OPENID_CONFIGURATION_PATH}"
)
# Each module that sends requests reads it at call time: patch it there.
REQUEST_TIMEOUT: Final = 10.0
