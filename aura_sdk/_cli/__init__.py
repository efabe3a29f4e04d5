"""The pieces of the ``aura`` command line (the entry point is ``aura_sdk.cli:main``).

- ``terminal``: what reaches the terminal: escaping, colours, the spinner, stdout.
- ``lines``: reading what the user types: readline, its history file, ``\"\"\"`` blocks.
- ``conversation``: the messages of a chat, and ``/save`` / ``/load`` as JSON.
- ``chat``: one reply streamed, and the interactive loop with its slash commands.
"""
