import asyncio, cProfile, pstats, sys, time
from benchmarks.bench_fleet import *
from benchmarks.fleet_ha import *

async def main():
    sizes = Sizes(properties=int(sys.argv[1]), locks_per_vendor=int(sys.argv[1]), other_account=25, rounds=1, memory_cycles=1)
    async with simulator_process(sizes.simulator_args(0.0)) as sim, home_assistant() as hass:
        await sim.settings(nuki_action_delay=0, remotelock_rate_limit=1_000_000)
        entries = entries_for(sim.info)
        t = time.perf_counter(); await set_up_entries(hass, entries); print("setup", time.perf_counter() - t)
        lift_rate_limits(entries)
        churn = await make_churn(sim, entries)
        for i in range(2):
            await churn.apply()
            t = time.perf_counter(); c = await refresh_cycle(hass, sim, entries); print("cycle", time.perf_counter() - t, c.per_entry)
        await churn.apply()
        pr = cProfile.Profile(); pr.enable()
        c = await refresh_cycle(hass, sim, entries)
        pr.disable()
        print(c.per_entry, c.wall)
        pstats.Stats(pr).sort_stats("cumulative").print_stats(60)
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
asyncio.run(main())
