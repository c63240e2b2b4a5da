"""Loopback simulator of the upstream APIs the Kasify integration talks to.

Usage::

    sim = Simulator(SimulatorConfig(properties=3, seed=1))
    async with sim.serve() as base_url:
        client = KasifyClient(session, sim.kasify_url, sim.kasify.token)
"""

from .app import Simulator, SimulatorConfig
from .casavi import CASAVI_PREFIX, CasaviApi
from .casavi_state import CasaviState
from .faults import Fault, FaultInjector
from .fleet import LockMix
from .ical import ICAL_PREFIX, IcalApi
from .ical_state import IcalFeeds
from .kasify import KASIFY_PREFIX, KasifyApi
from .kasify_state import KasifyState
from .nuki import NUKI_PREFIX, NukiApi, NukiState
from .recorder import RecordedRequest
from .remotelock import REMOTELOCK_PREFIX, RemoteLockApi, RemoteLockState
from .unifi_access import UNIFI_PREFIX, UnifiAccessApi, UnifiAccessState, serve_unifi_https

__all__ = [
    "CASAVI_PREFIX",
    "ICAL_PREFIX",
    "KASIFY_PREFIX",
    "NUKI_PREFIX",
    "REMOTELOCK_PREFIX",
    "UNIFI_PREFIX",
    "CasaviApi",
    "CasaviState",
    "Fault",
    "FaultInjector",
    "IcalApi",
    "IcalFeeds",
    "KasifyApi",
    "KasifyState",
    "LockMix",
    "NukiApi",
    "NukiState",
    "RecordedRequest",
    "RemoteLockApi",
    "RemoteLockState",
    "Simulator",
    "SimulatorConfig",
    "UnifiAccessApi",
    "UnifiAccessState",
    "serve_unifi_https",
]
