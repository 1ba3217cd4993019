"""``ioc simulate devices``: the Hòa Bình city fleet, streaming readings until Ctrl+C."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from ioc.cli_support import console, migrated_database, operator_errors

if TYPE_CHECKING:
    from ioc.simulate.runner import Simulator

app = typer.Typer(help="Simulated devices for demos and load: the Hòa Bình city fleet.",
                  no_args_is_help=True)  # fmt: skip


@app.command("devices")
def devices(
    lights: Annotated[int, typer.Option(min=0, help="Streetlights.")] = 2000,
    cameras: Annotated[int, typer.Option(min=0, help="Junction cameras.")] = 50,
    air: Annotated[int, typer.Option(min=0, help="Air-quality stations.")] = 20,
    water: Annotated[int, typer.Option(min=0, help="Đà river water-level gauges.")] = 10,
    traffic: Annotated[int, typer.Option(min=0, help="Traffic counters.")] = 20,
    interval: Annotated[
        float | None,
        typer.Option(min=0.1, help="Seconds between readings (IOC_DEVICE_SIMULATOR_SECONDS)."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Send one round and stop.")] = False,
    mqtt: Annotated[
        str | None,
        typer.Option(help="Publish to this Mosquitto (default IOC_MQTT_URL; empty: in-process)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="The fleet's layout and streams.")] = 1,
    fault_rate: Annotated[
        float | None, typer.Option(min=0, help="Faults per device per hour.")
    ] = None,
) -> None:
    """Set up the fleet in the database, then send every device's readings each interval."""
    from ioc.context.service import Broker
    from ioc.core.config import Settings
    from ioc.simulate.fleet import Sizes
    from ioc.simulate.runner import Simulator

    settings = Settings()
    url = settings.mqtt_url if mqtt is None else mqtt
    every = interval or settings.device_simulator_seconds
    rate = settings.device_simulator_fault_rate if fault_rate is None else fault_rate
    sizes = Sizes(lights, cameras, air, water, traffic)

    @operator_errors
    def run() -> None:
        with migrated_database() as database:
            broker = Broker(database, settings)
            with console.status("setting up the fleet…"):
                sim, installed = Simulator.prepare(
                    database, broker, sizes=sizes, seed=seed, fault_rate=rate, mqtt=url
                )
            counts = ", ".join(f"{n} {k}" for k, n in sim.fleet.counts().items())
            console.print(f"fleet: {counts} ({installed.entities} entities, "
                          f"{installed.devices} devices new)")  # fmt: skip
            console.print(f"sending {'to ' + url if url else 'in-process'} every {every:g} s")
            try:
                sim.start()
            except ConnectionError as exc:
                raise typer.BadParameter(str(exc), param_hint="--mqtt") from None
            try:
                _loop(sim, every, once)
            finally:
                sim.close()

    run()


def _loop(sim: Simulator, every: float, once: bool) -> None:
    """Tick every ``every`` seconds; in-process, answer the lights' commands in between."""
    rounds = readings = events = faults = 0
    with console.status("") as status:
        try:
            while True:
                started = time.monotonic()
                report = sim.tick()
                rounds += 1
                readings += report.readings
                events += report.events
                faults += len(report.faults)
                for device_id, kind in report.faults:
                    console.print(f"fault: {device_id} {kind}")
                status.update(
                    f"round {rounds}: {readings} readings, {events} camera events, "
                    f"{faults} faults, {report.answered} commands answered "
                    f"({time.monotonic() - started:.1f} s)"
                )
                if once:
                    break
                while (left := every - (time.monotonic() - started)) > 0:
                    time.sleep(min(1.0, left))
                    if sim.link is None:
                        sim.answer_commands()
        except KeyboardInterrupt:
            pass
    console.print(f"stopped after {rounds} round(s): {readings} readings, {events} camera events")
