"""The lifecycle engine: durable deadlines, the worker that runs them, the purge steps and
the deletion certificates they end with."""
