"""The ``creditflow`` command: start the suite, migrate, mint tokens, replay events, publish documents."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from shared.registry import SERVICES, app_factory, settings_class

app = typer.Typer(help="Creditflow: customers, credit, collections and survey services.", no_args_is_help=True)

ServiceArg = Annotated[str, typer.Argument(help=f"one of {', '.join(SERVICES)}")]


def _check_service(service: str) -> str:
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return service


@app.command()
def serve(service: ServiceArg) -> None:
    """Run one service with uvicorn (host and port from its settings)."""
    import uvicorn

    from shared.serving import OneSendHttpProtocol

    settings = settings_class(_check_service(service))()
    application = app_factory(service)(settings)
    # The modules, the app and its documents live as long as the process: out of the collector's sight, a full
    # collection does not walk their ~150,000 objects again (a quarter of a second under load, every request
    # of the moment waiting: the p99 of a GET under 32 connections).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.http_port,
        log_config=None,
        proxy_headers=True,
        access_log=False,
        limit_concurrency=settings.http_limit_concurrency,
        timeout_keep_alive=settings.http_timeout_keep_alive_seconds,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
        http=OneSendHttpProtocol,  # httptools, as "auto" picks, with a response's headers and body in one send
    )


@app.command()
def migrate(
    service: Annotated[str | None, typer.Option(help="one service; all when omitted")] = None,
    revision: Annotated[str, typer.Option(help="target revision")] = "head",
) -> None:
    """Upgrade the services' databases (one-shot; safe to run again)."""
    from shared.migrations import upgrade

    for name in [_check_service(service)] if service else SERVICES:
        settings = settings_class(name)()
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(name, settings.effective_database_url, revision)
        typer.echo(f"{name}: migrated to {revision}", err=True)


@app.command()
def makemigrations(service: ServiceArg, message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Autogenerate a revision for a service from its models (against a scratch SQLite database)."""
    from shared.migrations import revision, upgrade

    _check_service(service)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"
        upgrade(service, url)
        revision(service, url, message)


@app.command()
def token(
    scope: Annotated[list[str], typer.Option("--scope", "-s", help="repeat for several scopes")],
    subject: Annotated[str, typer.Option(help="the token's sub claim")] = "creditflow-cli",
    ttl_hours: Annotated[float, typer.Option(help="lifetime in hours")] = 12.0,
    service: Annotated[str, typer.Option(help="whose JWT settings to sign with")] = "customers",
) -> None:
    """Print an HS256 token with the given scopes (for local use), and nothing else."""
    from shared.auth import ALL_SCOPES, mint_token

    unknown = [s for s in scope if s not in ALL_SCOPES]
    if unknown:
        raise typer.BadParameter(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}")
    settings = settings_class(_check_service(service))()
    try:
        minted = mint_token(settings, scope, subject=subject, now=datetime.now(UTC), ttl=timedelta(hours=ttl_hours))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl-hours") from exc
    typer.echo(minted)


@app.command()
def replay(
    service: ServiceArg,
    since: Annotated[datetime, typer.Option(help="republish events created at or after this instant")],
    until: Annotated[datetime | None, typer.Option(help="and before this one")] = None,
) -> None:
    """Mark a service's retained outbox events for republishing (consumers ignore repeats)."""
    from shared.db import Database
    from shared.outbox import mark_for_replay

    settings = settings_class(_check_service(service))()

    async def run() -> int:
        db = Database(settings.effective_database_url)
        try:
            return await mark_for_replay(db, _aware(since), _aware(until) if until else None)
        finally:
            await db.dispose()

    count = asyncio.run(run())
    typer.echo(f"{service}: {count} events will be republished by the relay")


dlq_app = typer.Typer(help="Dead letters of a service: list, show, redrive.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def dlq_list(service: ServiceArg) -> None:
    """One JSON line per dead letter: offset, event, where it came from and why it was parked."""
    from shared.dlq import read_dead_letters

    settings = settings_class(_check_service(service))()
    for letter in asyncio.run(read_dead_letters(settings)):
        typer.echo(json.dumps(letter.summary(), ensure_ascii=False))


@dlq_app.command("show")
def dlq_show(service: ServiceArg, offset: Annotated[int, typer.Argument(help="the dead letter's offset")]) -> None:
    """One dead letter with every header and its value."""
    from shared.dlq import read_dead_letters

    settings = settings_class(_check_service(service))()
    letter = _dead_letter_at(asyncio.run(read_dead_letters(settings)), offset)
    typer.echo(json.dumps(letter.detail(), indent=2, ensure_ascii=False))


@dlq_app.command("redrive")
def dlq_redrive(
    service: ServiceArg,
    offset: Annotated[list[int] | None, typer.Option("--offset", help="repeat for several; all when omitted")] = None,
) -> None:
    """Republish dead letters on their original topics; the consumer applies each once through its inbox."""
    from shared.dlq import read_dead_letters, redrive

    settings = settings_class(_check_service(service))()
    letters = asyncio.run(read_dead_letters(settings))
    chosen = [_dead_letter_at(letters, wanted) for wanted in offset] if offset else letters
    count = asyncio.run(redrive(settings, chosen))
    typer.echo(f"{service}: {count} dead letters republished")


def _dead_letter_at(letters: list[Any], offset: int) -> Any:
    for letter in letters:
        if letter.offset == offset:
            return letter
    raise typer.BadParameter(f"no dead letter at offset {offset}")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@app.command()
def openapi(
    service: ServiceArg, out: Annotated[Path | None, typer.Option(help="file; stdout if omitted")] = None
) -> None:
    """Write a service's OpenAPI document."""
    document = app_factory(_check_service(service))(configure_logs=False).openapi()
    _write(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True), out)


@app.command()
def asyncapi(out: Annotated[Path | None, typer.Option(help="file; stdout if omitted")] = None) -> None:
    """Write the AsyncAPI document of every event the suite publishes."""
    from shared.events.asyncapi import asyncapi_document

    _write(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False, sort_keys=True), out)


@app.command("api-diff")
def api_diff(old: Path, new: Path) -> None:
    """Exit 1 when NEW (an OpenAPI file) breaks clients of OLD without a new major info.version."""
    from shared.apidiff import check_compatible

    problems = check_compatible(json.loads(old.read_text()), json.loads(new.read_text()))
    for problem in problems:
        typer.echo(f"breaking: {problem}", err=True)
    if problems:
        typer.echo(f"{new}: {len(problems)} breaking change(s); bump info.version's major to allow them", err=True)
        raise typer.Exit(1)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")


@app.command()
def console() -> None:
    """Serve the console (console/dist) and its same-origin proxy to the services on port 8000."""
    from shared.console import serve_console

    serve_console()


@app.command()
def broker(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 9092) -> None:
    """Run the embedded Kafka-protocol broker in the foreground and create the suite's topics."""
    from shared.broker import EmbeddedBroker

    embedded = EmbeddedBroker(port).start()
    _create_topics(f"127.0.0.1:{port}")
    typer.echo(f"broker ready on 127.0.0.1:{port} (memory-only; Ctrl-C stops it)", err=True)
    try:
        while embedded.process is not None and embedded.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()


def _create_topics(bootstrap: str) -> None:
    from shared.kafka import create_suite_topics

    asyncio.run(create_suite_topics(bootstrap))


def _raise_interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


@app.command()
def up(
    broker_port: Annotated[int, typer.Option(help="embedded broker port")] = 9092,
    with_broker: Annotated[bool, typer.Option("--broker/--no-broker", help="start the embedded broker")] = True,
    with_console: Annotated[bool, typer.Option("--console/--no-console", help="serve the console too")] = True,
) -> None:
    """Migrate and start the whole suite on the embedded default; Ctrl-C stops everything."""
    from shared.broker import EmbeddedBroker
    from shared.processes import start_tied_child

    embedded = None
    children: list[subprocess.Popen[bytes]] = []
    console_process: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop_all(*_args: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        typer.echo("stopping the suite ...", err=True)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded is not None:
            embedded.stop()

    # Install both explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        env = dict(os.environ)
        if with_broker:
            Path("var").mkdir(exist_ok=True)
            embedded = EmbeddedBroker(broker_port, log_path=Path("var/broker.log")).start()
            bootstrap = f"127.0.0.1:{broker_port}"
            for name in SERVICES:
                env.setdefault(f"CREDITFLOW_{name.upper()}_KAFKA_BOOTSTRAP_SERVERS", bootstrap)
            _create_topics(bootstrap)
            typer.echo(f"broker ready on {bootstrap}", err=True)
        # Collections asks the registry about customers whose registration event has not arrived yet.
        registry_port = settings_class("customers")().http_port  # from the environment the children inherit
        env.setdefault("CREDITFLOW_COLLECTIONS_REGISTRY_URL", f"http://127.0.0.1:{registry_port}")
        subprocess.run([sys.executable, "-m", "shared.cli", "migrate"], env=env, check=True)
        for name in SERVICES:
            children.append(start_tied_child([sys.executable, "-m", "shared.cli", "serve", name], env=env))
        ports = {name: settings_class(name)().http_port for name in SERVICES}
        if with_console:
            from shared.console import ConsoleSettings

            console_process = start_tied_child([sys.executable, "-m", "shared.cli", "console"], env=env)
            children.append(console_process)
            ports = {"console": ConsoleSettings().http_port, **ports}
        typer.echo(
            "creditflow is starting: "
            + ", ".join(f"{n} http://127.0.0.1:{p}" for n, p in ports.items())
            + " (Ctrl-C stops all)",
            err=True,
        )
        while not stopping:
            for child in children:
                if child.poll() is None:
                    continue
                if child is console_process:
                    # The services do not need the console (its port may be taken): say so and carry on.
                    typer.echo(f"the console exited with {child.returncode}; the services keep running", err=True)
                    children.remove(child)
                    break
                typer.echo(f"a service exited with {child.returncode}; stopping the suite", err=True)
                raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


if __name__ == "__main__":
    app()
