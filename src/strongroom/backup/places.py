"""The backup place the settings name: the folder ``backup_dir``, or the S3 bucket and
prefix of ``backup_url`` (its endpoint and region those of the S3 settings, its
credentials from the AWS chain, never from the settings)."""

from __future__ import annotations

from pathlib import Path

from strongroom.backup.manifest import BackupPlace, Folder
from strongroom.config import Settings


def open_place(settings: Settings) -> BackupPlace:
    if not settings.backup_url:
        return Folder(settings.backup_dir)
    # Imported here: boto3 is loaded only by deployments that keep backups on S3.
    from strongroom.backup.s3_place import S3Place

    return S3Place.at(
        settings.backup_url,
        Path(settings.home),
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        database_url=settings.database_url,
    )
