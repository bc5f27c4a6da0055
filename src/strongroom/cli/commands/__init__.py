"""One module per command group: ``strongroom X …`` lives in ``X.py``.

A group module holds its ``app`` (a Typer) and the commands under it; a single command
(``init``, ``demo``, ``serve``, ``worker``) is a module with its one function. ``cli/main.py``
puts them together; nothing here imports another command module.
"""
