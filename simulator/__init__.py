"""Loopback simulator of the upstream APIs the Kasify integration talks to.

Usage::

    sim = Simulator(SimulatorConfig(properties=3, seed=1))
    async with sim.serve() as base_url:
        client = KasifyClient(session, sim.kasify_url, sim.kasify.token)
"""

from .app import Simulator, SimulatorConfig
from .faults import Fault, FaultInjector
from .kasify import KASIFY_PREFIX, KasifyApi
from .kasify_state import KasifyState
from .recorder import RecordedRequest

__all__ = [
    "KASIFY_PREFIX",
    "Fault",
    "FaultInjector",
    "KasifyApi",
    "KasifyState",
    "RecordedRequest",
    "Simulator",
    "SimulatorConfig",
]
