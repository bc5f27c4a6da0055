"""The ``strongroom`` command line: thin commands over the services."""
