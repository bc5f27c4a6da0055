"""Root-key backends. The root key never leaves the backend; Strongroom asks it to
wrap and unwrap workspace keys.

- ``local``: root key files in the home folder (development, single machine).
- ``pkcs11``: any PKCS#11 HSM (SoftHSM2 in tests); keys generated inside, non-extractable.
- ``transit``: a Vault/OpenBao Transit key; its versions are the root versions.
- ``aws-kms``: AWS KMS, one KMS key per root version behind aliases.
- ``memory``: in-process, for tests and embedding experiments; held to the same contract.
"""

from strongroom.crypto.kms.base import RootKeyVersion, RootKms

__all__ = ["RootKeyVersion", "RootKms"]
