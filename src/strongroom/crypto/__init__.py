"""Envelope encryption: policy, ciphertext formats, blind indexes and the KMS backends."""
