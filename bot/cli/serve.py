"""`hoist serve`: bind the port, check what the service needs, then take webhooks.

A fault a person must fix stops it with exit 2 and one line naming the thing and the fix
(before it logs anything); a transient one (the forge answering 5xx, the store not up yet)
keeps /readyz at 503 with the reason while the checks are retried every few seconds."""

from __future__ import annotations

import argparse
import contextlib
import gc
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from .common import UsageError, settings_for
from .help import EXAMPLES, Formatter

if TYPE_CHECKING:
    from ..adapters.config_source import ConfigSource
    from ..adapters.signing import CommitSigner
    from ..adapters.store import Store
    from ..core.startup import Fault
    from ..flows.services import Services
    from ..settings import Settings
    from ..web.gate import Gate

log = structlog.get_logger()
RETRY_EVERY = 3.0  # seconds between start-up attempts while a fault is transient


class Startup:
    """Checks, then builds and opens the service behind `gate` (once)."""

    def __init__(self, settings: Settings, address: str, gate: Gate) -> None:
        self.settings = settings
        self.address = address
        self.gate = gate
        self.store: Store | None = None
        self.signer: CommitSigner | None = None
        self.fatal: Fault | None = None
        self.done = threading.Event()

    def attempt(self) -> Fault | None:
        """Every check in order, then the service opened: None, or the first fault."""
        from ..adapters.git import GitError
        from ..adapters.signing import SigningError
        from ..adapters.store import BadDatabaseUrl, SchemaError, StoreUnavailable
        from ..core.startup import Fault, git_fault, store_fault
        from ..log import redact_url
        from ..preflight import before_git_fault, branch_config_fault, settings_fault
        from ..wiring import build_services, build_store, start_signer

        flows = self.settings.role != "web"
        if flows and self.signer is None:
            try:  # a bad key stops Hoist before its first commit
                self.signer = start_signer(self.settings)
            except SigningError as exc:
                return Fault(str(exc), "")
        fault = before_git_fault(self.settings) if flows and not self.settings.projects_file \
            else settings_fault(self.settings)
        if fault is not None:
            return fault
        if self.store is None:
            try:
                self.store = build_store(self.settings)
            except (SchemaError, BadDatabaseUrl) as exc:
                return Fault(str(exc), "")
            except StoreUnavailable as exc:
                return store_fault(str(exc))
        if self.settings.projects_file is not None:  # many repositories: cli/serve_projects.py
            from .serve_projects import open_projects

            return open_projects(self.settings, self.store, self.signer, self.gate)
        if not flows:
            self._open(None)
            return None
        try:
            services = build_services(self.settings, self.store, self.signer)
        except GitError as exc:
            url = self.settings.manifests_repo or ""
            return git_fault(redact_url(url, url), str(exc))
        if self.settings.config_file is None:
            fault = branch_config_fault(services.git, self.settings)
        if fault is None:
            self._open(services)
        return fault

    def safe_attempt(self) -> Fault | None:
        """attempt(), with anything unforeseen logged and retried rather than a traceback."""
        from ..core.startup import Fault

        try:
            return self.attempt()
        except Exception as exc:
            log.exception("serve.start_failed", error=str(exc))
            return Fault(f"start-up failed ({type(exc).__name__}: {exc})", "retrying",
                         transient=True)

    def _open(self, services: Services | None) -> None:
        """Build the app (and the worker, unless a `web` process) and hand it the gate."""
        from ..adapters.config_source import ConfigSource
        from ..web.app import create_app
        from ..wiring import build_sources_for, build_web_services
        from ..worker import Worker

        settings, store = self.settings, self.store
        assert store is not None
        sources = build_sources_for(settings)
        if services is None:
            app = create_app(settings, build_web_services(settings, store), sources=sources,
                             role="web")
            self.gate.open(app)
            self._announce(None)
            return
        worker = Worker(services, settings.poll_interval, settings.reconcile_interval,
                        settings.workers, settings.lease_seconds)
        config = services.config

        def refresh() -> None:  # the default branch moved: hoist.yaml may have changed
            if isinstance(config, ConfigSource):
                config.refresh()
            worker.retry_now()

        app = create_app(settings, services, worker.wake, sources=sources, role=settings.role,
                         worker_alive=lambda: worker.running, refresh=refresh)
        worker.start()
        self.gate.on_stop.append(worker.stop)
        self.gate.open(app)
        if isinstance(config, ConfigSource):
            with contextlib.suppress(Exception):  # checked already; read for its commit
                config()
            self._announce(config)
        else:
            self._announce(None)

    def _announce(self, config: ConfigSource | None) -> None:
        """The one line saying what runs."""
        from ..adapters.store.engine import database_url, shown
        from ..log import redact_url

        s = self.settings
        repo = redact_url(s.manifests_repo or "", s.manifests_repo or "") or None
        commit = config.commit[:12] if config is not None and config.commit else None
        source: str | None = f"--config {s.config_file}"
        if s.config_file is None:
            source = f"{s.config_path} on the default branch" if s.role != "web" else None
        enabled = [name for name, on in (
            ("registry", s.webhook_secret or s.insecure_demo),
            ("github", s.github_webhook_secret or s.insecure_demo),
            ("gitlab", s.gitlab_webhook_secret or s.insecure_demo),
            ("gitea", s.gitea_webhook_secret or s.insecure_demo),
            ("bitbucket", s.bitbucket_webhook_secret or s.insecure_demo),
            ("bitbucket-datacenter", s.bitbucket_dc_webhook_secret or s.insecure_demo)) if on]
        log.info("serve.started", address=self.address, role=s.role,
                 forge=s.forge if s.role != "web" else None, repo=repo, config=source,
                 config_commit=commit, store=shown(database_url(s.store_url)),
                 engine=self.store.engine_name if self.store else None,
                 webhooks=enabled if s.role != "worker" else [],
                 page="behind HOIST_UI_TOKEN" if s.ui_token else "open")

    def retry(self, first: Fault, stop: threading.Event, on_fatal: Callable[[], None]
              ) -> None:
        """Retry every RETRY_EVERY seconds, saying so, until open or a fault needs a person
        (then `on_fatal()` ends the server)."""
        fault: Fault | None = first
        while fault is not None and fault.transient:
            log.warning("serve.not_ready", reason=fault.line, retry_in=RETRY_EVERY)
            self.gate.reason = fault.line
            if stop.wait(RETRY_EVERY):
                return
            fault = self.safe_attempt()
        if fault is not None:
            self.fatal = fault
            on_fatal()


def cmd_serve(args: argparse.Namespace) -> int:
    from .. import log as logging
    from ..adapters.notify import check_urls
    from ..settings import SettingsError
    from ..web.gate import Gate
    from ..web.server import Limits, bind, server

    settings = settings_for(args)
    try:
        settings.check_serve()
        if settings.role != "web":  # Apprise says which notification URLs it understands
            check_urls(settings.notify_urls, settings.notify_url)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    address = f"{args.host}:{args.port}"
    try:
        sock = bind(args.host, args.port)  # first: a busy port is known before anything runs
    except OSError as exc:
        if exc.errno == 98:  # EADDRINUSE
            raise UsageError(f"{address} is in use: pass --port or stop what listens "
                             "there") from None
        raise UsageError(f"cannot listen on {address}: {exc.strerror}") from None
    logging.configure(settings.log_format, settings.secrets)
    gate = Gate(settings.role)
    startup = Startup(settings, address, gate)
    fault = startup.safe_attempt()
    if fault is not None and not fault.transient:
        sock.close()
        raise UsageError(fault.line)
    # What start-up made (modules, the app, SQLAlchemy's caches) lives as long as the
    # process: kept out of the collector's full passes, which otherwise stall requests
    # (the ingest bench's p99 falls from about 50 ms to 7 ms).
    gc.freeze()
    running = server(gate, Limits(settings.header_timeout, settings.max_connections))
    stop = threading.Event()
    if fault is not None:
        def end() -> None:
            running.should_exit = True

        threading.Thread(target=startup.retry, args=(fault, stop, end), daemon=True,
                         name="hoist-startup").start()
    try:
        running.run(sockets=[sock])
    finally:
        stop.set()
    if startup.fatal is not None:
        raise UsageError(startup.fatal.line)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`hoist serve` and its options."""
    serve = sub.add_parser("serve", help="run the webhook service and worker",
                           formatter_class=Formatter, epilog=EXAMPLES["serve"])
    serve.add_argument("--config", help="a local hoist.yaml instead of the repo's "
                       "(default: HOIST_CONFIG on the repo's default branch)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--role", choices=("all", "web", "worker"),
                       help="web: webhooks and API only; worker: flows only; all: both "
                       "(default: HOIST_ROLE, else all)")
    serve.add_argument("--no-migrate", action="store_true",
                       help="do not migrate the store at start (it must be current)")
    serve.set_defaults(func=cmd_serve)
