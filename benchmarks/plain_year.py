"""A plain event-driven implementation of a Lang Son scenario: one ``heapq`` loop, no engine.

This is the baseline ``benchmarks/year.py`` measures the engine against: what the model costs when written
as one flat loop, by hand, with the least Python a reader would accept. Trucks and pools are lists indexed
by small constants, events are ``(time, order, function, argument)`` tuples on a heap. It shares with the
engine only what is not the engine: the validated scenario, the calendar (open intervals, midnights), the
arrival times, the named random streams and the records (the Recorder's methods for a truck's arrival,
yard entry, crossing and giving up, which also keep the exact backlog counters; stage rows written straight
into their buffer), so that its output can be compared table for table and the two do the same recording
work.

It implements the rules the Lang Son scenarios use: stages with opening hours and closures, random
closures, daily caps refilled at midnight, shared pools with return trips, priority rules, green lanes,
bans (on pooled stages and on pure delays), yards, reneging with diversion, service rules, stages that
apply to some trucks, flags and perishable cargo. It schedules its events in the same order as the engine,
so the two give identical tables for the same seed; ``benchmarks/year.py`` checks that before it reports
a ratio, so the comparison is of the same work.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from heapq import heappop, heappush
from itertools import count

import numpy as np

from sim.model.arrivals import arrival_times
from sim.model.calendar import Calendar, closure_span, midnights, open_intervals
from sim.model.random_streams import alternatives_sampler, draw, sampler, stream, uniforms
from sim.model.records import Recorder, Tables
from sim.scenario.demand import all_arrivals
from sim.scenario.schema import DIRECTIONS, Scenario

NO_PRIORITY = 1_000_000
# pool fields
BUSY, CAP, QUEUE, OPEN, TOKENS, RANKED, DAILY, PLACE = range(8)
# truck fields
TID, FLOW, STEPS, POS, SERV, BACK, DEADLINE, DIVERT, TRAVEL, QUEUED, START, WAITING, INYARD, YARDDONE = range(
    14
)
TIMER, CARGO, YARDSTEP = 14, 15, 16


def _matches(attrs: dict, when: dict | None) -> bool:
    return when is None or all(attrs.get(k) == v for k, v in when.items())


def plain_year(scenario: Scenario, seed: np.random.SeedSequence) -> Tables:
    """Run one replication of ``scenario`` in a flat heapq loop and return the same tables as the engine."""
    dated = [
        n
        for g in scenario.gates.values()
        for d in DIRECTIONS
        if g.flow(d) is not None
        for n, st in g.flow(d).stages.items()
        if st.changes
    ]
    if dated:
        raise NotImplementedError(f"the plain loop does not implement dated stage changes (stages {dated})")
    run = scenario.run
    cal = Calendar(run.start, run.unit_hours)
    horizon = run.horizon
    heap: list = []
    order = count()
    now = 0.0

    def after(delay: float, fn, arg) -> None:
        heappush(heap, (now + delay, next(order), fn, arg))

    def at(when: float, fn, arg) -> None:
        heappush(heap, (when, next(order), fn, arg))

    nights = midnights(cal, horizon)
    pools: list[list] = []
    yards: list[list | None] = []
    stage_keys: list = []
    resource_keys: list = []
    flows: dict = {}  # (gate, direction) -> flow tuple
    flow_list: list = []

    # ---- pools with timetables --------------------------------------------------------------------
    def grant(pool: list, truck: list) -> None:
        if truck[WAITING] is yards[flow_list[truck[FLOW]][1]]:
            truck[WAITING] = None
            truck[INYARD] = True
            rec.entered_yard(truck[TID], flow_list[truck[FLOW]][1], now)
            advance(truck)
            return
        truck[WAITING] = None
        truck[START] = now
        after(truck[SERV][truck[POS]], served, truck)

    def start_next(pool: list) -> bool:
        if not (pool[BUSY] < pool[CAP] and pool[OPEN] and pool[TOKENS] > 0):
            return False
        queue = pool[QUEUE]
        for i, entry in enumerate(queue):
            bans = entry[4]
            if bans and any(t0 <= now < t1 for t0, t1 in bans):
                continue
            del queue[i]
            del pool[PLACE][id(entry[3])]
            pool[BUSY] += 1
            pool[TOKENS] -= 1
            grant(pool, entry[3])
            return True
        return False

    def release(pool: list) -> None:
        queue = pool[QUEUE]
        if pool[RANKED] == 2:  # scheduled
            pool[BUSY] -= 1
            if queue:
                start_next(pool)
        elif queue:
            if pool[RANKED]:
                truck = queue.pop(0)[3]
                del pool[PLACE][id(truck)]
            else:
                truck = queue.popleft()
            grant(pool, truck)
        else:
            pool[BUSY] -= 1

    def start_waiting(pool: list) -> None:
        while pool[QUEUE] and start_next(pool):
            pass

    def timetable(pool: list, times: list, action, due_now) -> None:
        def advance_tt(index: int) -> None:
            while index < len(times):
                t = times[index]
                if t > now or not due_now(index):
                    after(t - now, fire, index)
                    return
                action(pool, index)
                index += 1

        def fire(index: int) -> None:
            action(pool, index)
            advance_tt(index + 1)

        advance_tt(0)

    def open_or_close(pool: list, index: int) -> None:
        pool[OPEN] = index % 2 == 0
        if pool[OPEN]:
            start_waiting(pool)

    def refill(pool: list, _index: int) -> None:
        pool[TOKENS] = pool[DAILY]
        start_waiting(pool)

    def wake(pool: list, _index: int) -> None:
        start_waiting(pool)

    def new_pool(servers, hours, cap, priority, cuts, wakeups, key) -> list:
        intervals = None
        if (hours is not None and not hours.always_open) or cuts:
            intervals = open_intervals(hours, cal, horizon, cuts)
        scheduled = intervals is not None or cap is not None or bool(wakeups)
        kind = 2 if scheduled else (1 if priority else 0)
        pool = [
            0,
            servers,
            [] if kind else deque(),
            intervals is None,
            cap if cap else math.inf,
            kind,
            cap,
            {},
        ]
        if intervals is not None:
            timetable(pool, [t for span in intervals for t in span], open_or_close, lambda i: i % 2 == 0)
        if cap is not None:
            timetable(pool, list(nights), refill, lambda _i: False)
        if wakeups:
            timetable(pool, sorted(set(wakeups)), wake, lambda _i: True)
        if key is not None:
            pools.append(pool)
            resource_keys.append(key)
        return pool

    # ---- build ------------------------------------------------------------------------------------
    closures_log = []
    for gi, (gname, gate) in enumerate(scenario.gates.items()):
        cuts = []
        for c in gate.closures:
            t0, t1 = closure_span(c, cal)
            closures_log.append(
                (gname, ",".join(c.stages or ["all"]), t0, t1, "ban" if c.when is not None else "closure")
            )
            if c.when is None:
                cuts.append((t0, t1, c.stages))
        rc = gate.random_closures
        if rc is not None:
            gen = stream(seed, "random-closures", gname)
            rate = rc.rate_per_day / cal.from_hours(24.0)
            t = 0.0
            while True:
                t += float(gen.exponential(1.0 / rate))
                if t >= horizon:
                    break
                dur = cal.from_hours(float(draw(rc.duration_h, gen, 1)[0]))
                cuts.append((t, t + dur, rc.stages))
                closures_log.append(
                    (gname, ",".join(rc.stages or ["all"]), t, min(t + dur, horizon), "random")
                )
        wakeups = sorted({closure_span(c, cal)[1] for c in gate.closures if c.when is not None})
        yards.append(
            new_pool(gate.yard.capacity, None, None, False, [], [], None) if gate.yard.capacity else None
        )

        def cut(name: str, cuts=cuts) -> list:
            return [(t0, t1) for t0, t1, names in cuts if names is None or name in names]

        ranked = {
            st.resource
            for d in DIRECTIONS
            if gate.flow(d) is not None
            for st in gate.flow(d).stages.values()
            if st.resource is not None and st.priority
        }
        shared = {
            rn: new_pool(r.servers, r.hours, r.daily_cap, rn in ranked, cut(rn), wakeups, (gname, rn))
            for rn, r in gate.resources.items()
        }
        for d in DIRECTIONS:
            flow = gate.flow(d)
            if flow is None:
                continue
            stages = []
            for sn, st in flow.stages.items():
                pool = lane = None
                if st.resource is not None:
                    pool = shared[st.resource]
                elif not st.is_delay:
                    pool = new_pool(
                        int(st.servers),
                        st.hours,
                        st.daily_cap,
                        bool(st.priority),
                        cut(sn),
                        wakeups,
                        (gname, f"{d}.{sn}"),
                    )
                    if st.green_lane is not None:
                        gl = st.green_lane
                        lane = new_pool(
                            gl.servers,
                            st.hours,
                            gl.daily_cap,
                            False,
                            cut(sn),
                            wakeups,
                            (gname, f"{d}.{sn}.green_lane"),
                        )
                key = (gname, d, sn)
                specs = [st.service, *(r.service for r in st.service_when)]

                def service_stream(name: str, specs=specs, key=key):
                    g = stream(seed, name, *key)
                    return sampler(specs[0], g) if len(specs) == 1 else alternatives_sampler(specs, g)

                stages.append(
                    (
                        len(stage_keys),
                        st,
                        pool,
                        lane,
                        service_stream("service"),
                        service_stream("service-diverted"),
                        sampler(st.return_time, stream(seed, "return", *key))
                        if st.return_time is not None
                        else None,
                        [
                            (*closure_span(c, cal), dict(c.when))
                            for c in gate.closures
                            if c.when is not None and (c.stages is None or sn in c.stages)
                        ],
                    )
                )
                stage_keys.append(key)
            yard_at = list(flow.stages).index(flow.enters_yard_at) if flow.enters_yard_at else 0
            ren = None
            if flow.reneging is not None:
                r = flow.reneging
                ren = (
                    sampler(r.patience_h, stream(seed, "patience", gname, d)),
                    sampler(r.patience_h, stream(seed, "patience-diverted", gname, d)),
                    uniforms(stream(seed, "divert", gname, d)),
                    sampler(r.travel_h, stream(seed, "travel", gname, d)),
                    r,
                )
            entry = (len(flow_list), gi, d, flow, stages, yard_at, ren, {})
            flows[(gname, d)] = entry
            flow_list.append(entry)

    rec = Recorder(
        list(scenario.gates),
        list(flows),
        list(scenario.truck_classes),
        [c.commodity for c in scenario.truck_classes.values()],
        stage_keys,
        resource_keys,
    )
    rec.closures.extend(closures_log)

    def route(flow: tuple, key: tuple, attrs) -> tuple:
        found = flow[7].get(key)
        if found is not None:
            return found
        attrs = attrs()
        steps, yard_step = [], -1
        for pos, (index, st, pool, lane, services, div_services, returns, bans) in enumerate(flow[4]):
            applies = _matches(attrs, st.applies_to)
            if pos >= flow[5] and yard_step < 0 and applies:
                yard_step = len(steps)
            if not applies:
                continue
            use = lane if lane is not None and _matches(attrs, st.green_lane.when) else pool
            prio = None
            if use is not None and use[RANKED]:
                prio = next(
                    (i for i, rule in enumerate(st.priority) if _matches(attrs, rule.when)), NO_PRIORITY
                )
            rule = next((i + 1 for i, r in enumerate(st.service_when) if _matches(attrs, r.when)), 0)
            pick = (
                (services, div_services)
                if not st.service_when
                else (lambda s=services, k=rule: s()[k], lambda s=div_services, k=rule: s()[k])
            )
            steps.append(
                (
                    index,
                    use,
                    prio,
                    pick[0],
                    pick[1],
                    returns,
                    tuple(sorted((t0, t1) for t0, t1, w in bans if _matches(attrs, w))),
                )
            )
        if yard_step < 0:
            yard_step = len(steps)
        found = flow[7][key] = (tuple(steps), yard_step, any(s[5] is not None for s in steps))
        return found

    # ---- trucks -----------------------------------------------------------------------------------
    def new_truck(flow: tuple, cargo: tuple, diverted_from: int) -> list:
        klass, key, attrs, value, tonnage, cost, origin, shelf = cargo
        diverted = diverted_from >= 0
        tid = rec.new_truck(
            flow=flow[0],
            truck_class=klass,
            value=value,
            tonnage=tonnage,
            arrival=now if diverted else origin,
            origin=origin,
            shelf_left_h=shelf,
            cost_per_day=cost,
            diverted_from=diverted_from,
        )
        steps, yard_step, has_returns = route(flow, key, attrs)
        services = [s[4]() for s in steps] if diverted else [s[3]() for s in steps]
        backs = [s[5]() if s[5] is not None else 0.0 for s in steps] if has_returns else [0.0] * len(steps)
        deadline, divert, travel = math.inf, False, 0.0
        ren = flow[6]
        if ren is not None:
            rule = ren[4]
            patience = (ren[1] if diverted else ren[0])()
            u = ren[2]()
            trip = ren[3]()
            if not math.isinf(shelf):
                patience = min(patience, max(0.0, rule.shelf_life_fraction * shelf))
            deadline = now + cal.from_hours(patience)
            divert = (not diverted) and rule.divert_to is not None and u < rule.divert_share
            travel = cal.from_hours(trip)
        return [
            tid,
            flow[0],
            steps,
            0,
            services,
            backs,
            deadline,
            divert,
            travel,
            now,
            now,
            None,
            False,
            False,
            None,
            cargo,
            yard_step,
        ]

    def queue_at(truck: list, pool: list, prio, bans) -> None:
        if pool[RANKED]:
            entry = (prio or 0, now, next(order_q), truck, bans)
            insort(pool[QUEUE], entry)
            pool[PLACE][id(truck)] = entry
        else:
            pool[QUEUE].append(truck)
        truck[WAITING] = pool
        deadline = truck[DEADLINE]
        if deadline == math.inf:
            return
        truck[QUEUED] = now
        give_up_at = now + max(0.0, deadline - now)
        if give_up_at <= now:
            give_up(truck, give_up_at)
        elif truck[TIMER] is None:
            truck[TIMER] = give_up_at
            at(give_up_at, patience_over, truck)

    order_q = count()

    def take(pool: list, bans) -> bool:
        if pool[RANKED] == 2:
            if (
                pool[BUSY] < pool[CAP]
                and pool[OPEN]
                and pool[TOKENS] > 0
                and not (bans and any(t0 <= now < t1 for t0, t1 in bans))
            ):
                pool[BUSY] += 1
                pool[TOKENS] -= 1
                return True
            return False
        if pool[BUSY] < pool[CAP]:
            pool[BUSY] += 1
            return True
        return False

    def advance(truck: list) -> None:
        pos = truck[POS]
        steps = truck[STEPS]
        flow = flow_list[truck[FLOW]]
        if pos == len(steps):
            # recorded before the yard place goes to the next truck, as the engine does
            rec.cleared(truck[TID], flow[1], now, truck[INYARD])
            yard = yards[flow[1]]
            if truck[INYARD] and yard is not None:
                release(yard)
            return
        if pos == truck[YARDSTEP] and not truck[YARDDONE]:
            truck[YARDDONE] = True
            yard = yards[flow[1]]
            if yard is not None and not take(yard, ()):
                rec.outside(truck[TID], now)
                queue_at(truck, yard, None, ())
                return
            truck[INYARD] = True
            rec.entered_yard(truck[TID], flow[1], now)
        step = steps[pos]
        truck[QUEUED] = now
        pool = step[1]
        if pool is None:
            if step[6]:
                hold(truck, 0)
            else:
                truck[START] = now
                after(truck[SERV][pos], served, truck)
        elif take(pool, step[6]):
            truck[START] = now
            after(truck[SERV][pos], served, truck)
        else:
            queue_at(truck, pool, step[2], step[6])

    def hold(truck: list, first: int) -> None:
        bans = truck[STEPS][truck[POS]][6]
        for i in range(first, len(bans)):
            t0, t1 = bans[i]
            if t0 <= now < t1:
                after(t1 - now, lambda tr, nxt=i + 1: hold(tr, nxt), truck)
                return
        truck[START] = now
        after(truck[SERV][truck[POS]], served, truck)

    s_rows = rec.s_rows

    def served(truck: list) -> None:
        pos = truck[POS]
        step = truck[STEPS][pos]
        back = truck[BACK][pos]
        pool = step[1]
        if pool is not None:
            if back > 0.0:
                after(back, release, pool)
            else:
                release(pool)
        s_rows.extend((truck[TID], step[0], truck[QUEUED], truck[START], now, now + back))
        truck[POS] = pos + 1
        advance(truck)

    def patience_over(truck: list) -> None:
        truck[TIMER] = None
        if truck[WAITING] is None:
            return
        queued = truck[QUEUED]
        give_up_at = queued + max(0.0, truck[DEADLINE] - queued)
        if give_up_at > now:
            truck[TIMER] = give_up_at
            at(give_up_at, patience_over, truck)
            return
        give_up(truck, give_up_at)

    def give_up(truck: list, when: float) -> None:
        flow = flow_list[truck[FLOW]]
        pool = truck[WAITING]
        truck[WAITING] = None
        if pool[RANKED]:
            entry = pool[PLACE].pop(id(truck))
            del pool[QUEUE][bisect_left(pool[QUEUE], entry)]
        else:
            pool[QUEUE].remove(truck)
        rec.gave_up(truck[TID], flow[1], when, truck[INYARD], truck[DIVERT])
        yard = yards[flow[1]]
        if truck[INYARD] and pool is not yard and yard is not None:
            release(yard)
        truck[INYARD] = False
        if truck[DIVERT]:
            at(when + truck[TRAVEL], arrive_elsewhere, truck)

    def arrive_elsewhere(truck: list) -> None:
        flow = flow_list[truck[FLOW]]
        target = flows[(flow[3].reneging.divert_to, flow[2])]
        advance(new_truck(target, truck[CARGO], truck[TID]))

    # ---- sources and monitor ----------------------------------------------------------------------
    class_names = list(scenario.truck_classes)

    def source(name: str, arr) -> None:
        klass = class_names.index(arr.truck_class)
        flow = flows[(arr.gate, arr.direction)]
        tc = scenario.truck_classes[arr.truck_class]
        times = arrival_times(arr, cal, horizon, seed, name)
        value = sampler(tc.value_usd, stream(seed, "value", name))
        tonnage = sampler(tc.tonnage_t, stream(seed, "tonnage", name))
        names = list(tc.flags)
        flags = [(p, uniforms(stream(seed, "flag", name, f))) for f, p in tc.flags.items()]
        fixed = {"commodity": tc.commodity, **tc.attributes}
        shelf = age = None
        if tc.perishable is not None:
            shelf = sampler(tc.perishable.shelf_life_h, stream(seed, "shelf-life", name))
            age = sampler(tc.perishable.age_on_arrival_h, stream(seed, "age", name))
        cost = tc.waiting_cost_usd_per_day
        attr_fns: dict = {}

        def arrive(t: float) -> None:
            key = (klass, *[u() < p for p, u in flags]) if flags else (klass,)
            attrs = attr_fns.get(key)
            if attrs is None:
                attrs = attr_fns[key] = lambda k=key: {**fixed, **dict(zip(names, k[1:], strict=True))}
            shelf_left = shelf() - age() if shelf is not None else math.inf
            v = value()
            cargo = (klass, key, attrs, v, tonnage(), cost, t, shelf_left)
            advance(new_truck(flow, cargo, -1))
            nxt = next(times, None)
            if nxt is not None:
                after(nxt - now, arrive, nxt)

        first = next(times, None)
        if first is not None:
            after(first - now, arrive, first)

    for name, arr in all_arrivals(scenario).items():
        source(name, arr)
    interval = run.monitor_interval or cal.from_hours(1.0)

    def snapshot() -> None:
        for gi, yard in enumerate(yards):
            rec.g_time.append(now)
            rec.g_gate.append(gi)
            rec.g_outside.append(len(yard[QUEUE]) if yard is not None else 0)
            rec.g_yard.append(rec.in_yard[gi])
            rec.g_cleared.append(rec.cleared_per_gate[gi])
        for ri, pool in enumerate(pools):
            rec.r_time.append(now)
            rec.r_resource.append(ri)
            rec.r_queue.append(len(pool[QUEUE]))
            rec.r_busy.append(pool[BUSY])

    def monitor(_arg: object) -> None:
        snapshot()
        after(interval, monitor, None)

    monitor(None)
    # ---- the loop ---------------------------------------------------------------------------------
    while heap and heap[0][0] < horizon:
        now, _, fn, arg = heappop(heap)
        fn(arg)
    now = horizon
    snapshot()
    return rec.tables(horizon, cal.unit_hours)


def main(argv: list[str] | None = None) -> int:
    """Run the plain loop on the calibrated year (``--smoke``: one week) and say whether it gives the
    engine's tables; the figures themselves come from ``benchmarks/year.py``."""
    import argparse
    import time
    from pathlib import Path

    import pandas as pd

    from sim.model import run_replication
    from sim.model.random_streams import replication_seed
    from sim.scenario import load_scenario

    parser = argparse.ArgumentParser(description=main.__doc__.split("\n", 1)[0] if main.__doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="one simulated week (CI)")
    args = parser.parse_args(argv)
    path = Path(__file__).resolve().parent.parent / "scenarios" / "lang_son" / "base_2021_calibrated.yaml"
    scenario = load_scenario(path, ["run.horizon=168"] if args.smoke else []).scenario
    t0 = time.process_time()
    plain = plain_year(scenario, replication_seed(2021, 0))
    seconds = time.process_time() - t0
    engine = run_replication(scenario, replication_seed(2021, 0))
    for name, table in engine.as_dict().items():
        pd.testing.assert_frame_equal(table, plain.as_dict()[name], check_exact=True, obj=name)
    print(f"plain heapq loop: {len(plain.trucks):,} trucks in {seconds:.2f} s CPU; same tables as the engine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
