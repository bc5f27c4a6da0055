"""The composition root: the one place where real or fake parts are chosen.

settings = init_home(Path("./home"))          # once
with open_strongroom(home="./home") as sr:     # then
    ws = sr.workspaces.create("Acme", "owner@acme.example")
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from strongroom.backup.marker import is_unfinished_restore
from strongroom.blobs.base import BlobStore
from strongroom.blobs.folder import FolderBlobStore
from strongroom.clock import Clock, SystemClock
from strongroom.config import CONFIG_FILE, Settings, aws_kms_alias, load_settings, write_settings
from strongroom.crypto.cache import KeyCache
from strongroom.crypto.keyring import Keyring
from strongroom.crypto.kms.base import RootKms
from strongroom.crypto.kms.local import LocalKms
from strongroom.crypto.secret import SecretKey
from strongroom.domain.lifecycle import DeadlineAction
from strongroom.errors import ConfigurationError, Conflict
from strongroom.services import audit
from strongroom.services.audit import AuditLog
from strongroom.services.browser_sessions import BrowserSessions
from strongroom.services.context import Context
from strongroom.services.files import Files
from strongroom.services.keys import Keys
from strongroom.services.ledger import Ledger
from strongroom.services.projects import Projects
from strongroom.services.records import Records
from strongroom.services.trash import Trash
from strongroom.services.workspaces import Workspaces
from strongroom.storage.unit_of_work import DataStore, KeystoreStore, open_stores

if TYPE_CHECKING:
    from strongroom.backup.service import Backups
    from strongroom.export.service import Exports
    from strongroom.lifecycle.shred_epoch import ShredEpochs
    from strongroom.lifecycle.worker import Worker
    from strongroom.observability.readings import DeploymentReadings
    from strongroom.promises.service import Promises
    from strongroom.services.access import Access
    from strongroom.services.agreements import Agreements
    from strongroom.services.certificates import Certificates
    from strongroom.services.grants import Grants
    from strongroom.services.inbox import Inbox
    from strongroom.services.operators import Staff
    from strongroom.services.plans import Plans
    from strongroom.services.privacy import Privacy
    from strongroom.services.subprocessor_mail import Subscribers
    from strongroom.services.subprocessors import Subprocessors

#: The newest migration of each database.
HEAD_REVISIONS = {"data": "0015", "keystore": "0002"}


class Strongroom:
    """Everything Strongroom offers, for embedding; the CLI and API call the same.

    The services every command may use are built with it. The others (accounts, plans,
    certificates, privacy requests, backups, exports, and the worker with the handler of
    every deadline action) are built, and their modules imported, on first use: a process
    that stores a file does not pay for importing the backup or export machinery.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.workspaces = Workspaces(ctx)
        self.projects = Projects(ctx)
        self.records = Records(ctx)
        self.files = Files(ctx)
        self.keys = Keys(ctx)
        self.audit = AuditLog(ctx.store)
        #: The console's sessions, server-side (console/sessions.py).
        self.browser_sessions = BrowserSessions(ctx)
        self.trash = Trash(ctx)
        self._worker: Worker | None = None
        self._worker_lock = threading.Lock()

    @cached_property
    def access(self) -> Access:
        from strongroom.services.access import Access

        return Access(self.ctx)

    @cached_property
    def plans(self) -> Plans:
        from strongroom.services.plans import Plans

        return Plans(self.ctx)

    @cached_property
    def certificates(self) -> Certificates:
        from strongroom.services.certificates import Certificates

        return Certificates(self.ctx)

    @property
    def worker(self) -> Worker:
        """The lifecycle worker: ``sr.worker.run_once()`` runs what is due now. Until it
        is first asked for, no worker runs in this process, so there is none to wake."""
        with self._worker_lock:  # one worker per Strongroom, even if two threads ask at once
            if self._worker is None:
                self._worker = self._make_worker()
            return self._worker

    def _make_worker(self) -> Worker:
        """The worker, with the handler of every deadline action registered."""
        from strongroom.export.jobs import expire_deadline as expire_export
        from strongroom.export.jobs import run_deadline as run_export
        from strongroom.lifecycle.erasure import Eraser
        from strongroom.lifecycle.purge import Purger
        from strongroom.lifecycle.scheduled import Scheduled
        from strongroom.lifecycle.worker import Worker

        ctx = self.ctx
        worker = Worker(ctx)
        purger = Purger(ctx)
        worker.register(DeadlineAction.PURGE_TRASH, purger.purge_trash)
        worker.register(DeadlineAction.PURGE_WORKSPACE, purger.purge_workspace)
        worker.register(DeadlineAction.EXPORT_RUN, lambda s: run_export(ctx, s))
        worker.register(DeadlineAction.EXPORT_EXPIRE, lambda s: expire_export(ctx, s))
        worker.register(DeadlineAction.PRIVACY_ERASE, Eraser(ctx, self.records).run)
        worker.scheduled = Scheduled(
            ctx,
            self.backups,
            self.keys,
            epochs=self.shred_epochs,
            check_promises=lambda: self.promises.check_all("system:worker"),
            promises_due=lambda now: self.promises.check_due(now),
        )
        ctx.wake_worker = worker.wake
        return worker

    @cached_property
    def privacy(self) -> Privacy:
        """Data subjects' requests (GDPR, CCPA) on the law's clock."""
        from strongroom.export.subject import SubjectPackages
        from strongroom.services.privacy import Privacy

        return Privacy(
            self.ctx,
            self.records,
            SubjectPackages(self.ctx, self.records),
            run_deadline=lambda deadline_id: self.worker.run_once(only=deadline_id),
        )

    @cached_property
    def backups(self) -> Backups:
        """Encrypted backups: create, list, verify, restore, drill (expiry runs in the worker)."""
        from strongroom.backup.service import Backups

        return Backups(self.ctx, open_home=_open_home)

    @cached_property
    def exports(self) -> Exports:
        from strongroom.export.service import Exports

        return Exports(self.ctx)

    @cached_property
    def inbox(self) -> Inbox:
        """The request inbox (support, security, privacy) on its first-response clock."""
        from strongroom.mail import Mailer
        from strongroom.services.inbox import Inbox

        return Inbox(self.ctx, Mailer(self.settings))

    @cached_property
    def promises(self) -> Promises:
        """The trust page's promises: checks against this deployment, their results, and
        the trust report. Promises of other services join here, one entry each."""
        from strongroom.promises.offered import dpa, response_time, subprocessors
        from strongroom.promises.registry import Deployment
        from strongroom.promises.service import Promises
        from strongroom.promises.standard import STANDARD

        def deployment(now: datetime) -> Deployment:
            return Deployment(self.ctx, self.backups, self.audit, self.privacy, now)

        kept_by_services = [
            subprocessors(lambda now: self.subprocessors.verdict(now)),
            dpa(lambda now: self.agreements.verdict(now)),
            response_time(lambda now: self.inbox.verdict(now)),
        ]
        return Promises(self.ctx, [*STANDARD, *kept_by_services], deployment)

    @cached_property
    def agreements(self) -> Agreements:
        """The DPA and SCC versions, owners' acceptances and their signed receipts."""
        from strongroom.services.agreements import Agreements

        return Agreements(self.ctx)

    @cached_property
    def subprocessors(self) -> Subprocessors:
        """The subprocessor list, its notices and the owners' objections (issue 14)."""
        from strongroom.services.subprocessors import Subprocessors

        return Subprocessors(self.ctx)

    @cached_property
    def subprocessor_subscribers(self) -> Subscribers:
        """Who is mailed each subprocessor notice, and the mailing (the worker sends)."""
        from strongroom.mail import Mailer
        from strongroom.services.subprocessor_mail import Subscribers

        return Subscribers(self.ctx, Mailer(self.settings))

    @cached_property
    def staff(self) -> Staff:
        """Operators as people, and their confidentiality agreements (issue 17)."""
        from strongroom.services.operators import Staff

        return Staff(self.ctx)

    @cached_property
    def grants(self) -> Grants:
        """Break-glass grants: requested, decided by owners, read-only, time-bound."""
        from strongroom.mail import Mailer
        from strongroom.services.grants import Grants

        return Grants(self.ctx, self.access, self.staff, Mailer(self.settings))

    @cached_property
    def readings(self) -> DeploymentReadings:
        """The deployment's state as GET /metrics reports it (due deadlines, purge lag,
        backup age, certificate expiry, promise results), read when asked."""
        from strongroom.observability.readings import DeploymentReadings

        return DeploymentReadings(self.ctx)

    @cached_property
    def shred_epochs(self) -> ShredEpochs:
        """The root key's shred epochs: new version, rewrap, keystore backup, destroy."""
        from strongroom.lifecycle.shred_epoch import ShredEpochs

        return ShredEpochs(self.ctx, self.keys)

    def __repr__(self) -> str:
        return f"Strongroom(home={str(self.settings.home)!r}, kms={self.settings.kms!r})"

    def close(self) -> None:
        self.ctx.keyring.close()
        self.ctx.store.dispose()

    def __enter__(self) -> Strongroom:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _open_home(settings: Settings, clock: Clock | None) -> Strongroom:
    """How backup opens a home it restored (to replay the ledger, to drill it)."""
    return open_strongroom(settings=settings, clock=clock)


def _pkcs11(settings: Settings, create: bool) -> RootKms:
    from strongroom.crypto.kms.pkcs11 import Pkcs11Kms

    opener = Pkcs11Kms.create if create else Pkcs11Kms.open
    return opener(
        settings.pkcs11_module,
        settings.pkcs11_token_label,
        settings.pkcs11_pin(),
        settings.pkcs11_scheme,
    )


def _transit(settings: Settings, create: bool) -> RootKms:
    from strongroom.crypto.kms.transit import TransitConnection, TransitKms

    connection = TransitConnection(
        url=settings.transit_url,
        key=settings.transit_key,
        mount=settings.transit_mount,
        token_env=settings.transit_token_env,
        approle_role_id_env=settings.transit_approle_role_id_env,
        approle_secret_id_env=settings.transit_approle_secret_id_env,
        approle_mount=settings.transit_approle_mount,
        ca_file=settings.transit_ca_file,
        connect_timeout_seconds=settings.transit_connect_timeout_seconds,
        timeout_seconds=settings.transit_timeout_seconds,
    )
    return TransitKms.create(connection) if create else TransitKms.open(connection)


def _aws_kms(settings: Settings, create: bool) -> RootKms:
    from strongroom.crypto.kms.aws import AwsKms, AwsKmsConnection

    alias, arn_region = aws_kms_alias(settings.aws_kms_key)
    connection = AwsKmsConnection(
        alias=alias,
        region=settings.aws_kms_region or arn_region,
        endpoint_url=settings.aws_kms_endpoint_url,
        connect_timeout_seconds=settings.aws_kms_connect_timeout_seconds,
        timeout_seconds=settings.aws_kms_timeout_seconds,
    )
    return AwsKms.create(connection) if create else AwsKms.open(connection)


def open_kms(settings: Settings, create: bool = False) -> RootKms:
    if settings.kms == "local":
        return LocalKms.create(settings.kms_dir) if create else LocalKms.open(settings.kms_dir)
    if settings.kms == "transit":
        return _transit(settings, create)
    if settings.kms == "aws-kms":
        return _aws_kms(settings, create)
    return _pkcs11(settings, create)


def open_blobs(settings: Settings) -> BlobStore:
    """The blob store the settings name: the folder blob_dir, or an S3 bucket (its
    credentials from the AWS chain, never from the settings)."""
    if settings.blob_store != "s3":
        return FolderBlobStore(Path(settings.blob_dir))
    # Imported here: boto3 is loaded only by deployments that keep their blobs on S3.
    from strongroom.blobs.s3 import S3BlobStore

    return S3BlobStore(
        settings.s3_bucket,
        settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )


def _metered(kms: RootKms, clock: Clock, settings: Settings) -> tuple[RootKms, KeyCache[SecretKey]]:
    """The root key and a key cache, counted for GET /metrics."""
    # Imported here: prometheus_client is loaded by the processes that report metrics only.
    from strongroom.observability.metered import MeteredKeyCache, MeteredKms

    cache: KeyCache[SecretKey] = MeteredKeyCache(
        clock, settings.key_cache_entries, settings.key_cache_ttl_seconds
    )
    return MeteredKms(kms), cache


def _stores(settings: Settings) -> tuple[DataStore, KeystoreStore]:
    """The data store and the keystore, their schemas brought up to date."""
    return open_stores(settings.database_url, settings.keystore_url, HEAD_REVISIONS)


def _make_local_tls(settings: Settings) -> None:
    """A local CA (HOME/tls/ca.pem) and a server certificate for localhost and 127.0.0.1,
    unless the settings name a certificate of their own."""
    folder = settings.home / "tls"
    if Path(settings.tls_cert) != folder / "server.pem" or Path(settings.tls_cert).exists():
        return
    now = SystemClock().now()
    # Imported here: X.509 is needed by `init` only, not by every command's start-up.
    from strongroom.tls.certificates import issue_server_certificate, make_local_ca

    make_local_ca(folder, now)
    issue_server_certificate(folder, now=now)


def init_home(home: Path | str, **options: Any) -> Settings:
    """Make a new home: settings file, root key, data store and keystore schemas."""
    home = Path(home).expanduser()
    if (home / CONFIG_FILE).exists():
        raise Conflict(f"{home} is already initialised")
    settings = load_settings(home, overrides=options)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    # The root key first: a token that cannot serve Strongroom refuses here, before
    # anything is written. The instance that made it goes on to open the home, so `init`
    # never has to find the key again (and never says "run strongroom init" itself).
    kms = open_kms(settings, create=True)
    try:
        data, keys = _stores(settings)  # before the settings file: a failure leaves no home
        data.dispose()
        keys.dispose()
        write_settings(settings, options)
        _make_local_tls(settings)
        with open_strongroom(settings=settings, kms=kms) as sr:
            sr.ctx.keyring.create_directory_key()
            audit.record(
                sr.ctx.store,
                sr.ctx.clock.now(),
                "init",
                "home.init",
                None,
                kms=settings.kms,
                keys=["root v1", "directory v1"],
            )
    except BaseException:
        # No half-made home: without its settings file the folder is not a home, and
        # init may run again (with pkcs11, on a new token or after deleting root v1).
        (settings.home / CONFIG_FILE).unlink(missing_ok=True)
        kms.close()
        raise
    return settings


def open_strongroom(
    home: Path | str | None = None,
    *,
    settings: Settings | None = None,
    kms: RootKms | None = None,
    blobs: BlobStore | None = None,
    clock: Clock | None = None,
    metered: bool = False,
) -> Strongroom:
    """Open an initialised home (or the given settings), with optional replacement parts.
    ``metered``: the root key's calls and the key cache counted for GET /metrics (what
    ``serve`` and ``worker`` ask for, unless ``metrics = "off"``)."""
    if settings is None:
        if home is None:
            raise ConfigurationError("give a home folder or settings")
        if is_unfinished_restore(Path(home).expanduser()):
            raise ConfigurationError(
                f"{home} is a restore that did not finish; rerun the same backup restore"
            )
        if not (Path(home).expanduser() / CONFIG_FILE).is_file():
            raise ConfigurationError(f"{home} is not a Strongroom home; run: strongroom init")
        settings = load_settings(home)
    store, keystore = _stores(settings)
    clock = clock or SystemClock()
    kms = kms or open_kms(settings)
    cache: KeyCache[SecretKey] = KeyCache(
        clock, settings.key_cache_entries, settings.key_cache_ttl_seconds
    )
    if metered and settings.metrics == "on":
        kms, cache = _metered(kms, clock, settings)
    ctx = Context(
        store=store,
        keyring=Keyring(kms, keystore, cache, clock),
        ledger=Ledger(keystore),
        blobs=blobs or open_blobs(settings),
        clock=clock,
        settings=settings,
    )
    sr = Strongroom(ctx)
    try:
        sr.records.reindex_outdated()  # after an upgrade of the index; one query otherwise
    except BaseException:
        sr.close()
        raise
    return sr
