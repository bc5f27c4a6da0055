"""Blob stores hold file ciphertext (never plaintext): a folder (default) or memory."""

from strongroom.blobs.base import BlobStore, BlobWriter

__all__ = ["BlobStore", "BlobWriter"]
