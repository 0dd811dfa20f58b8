"""Where the pytest plugin used to live: it is now the top-level module :mod:`pytest_flame_hub`,
registered automatically through the ``pytest11`` entry point (and light to load: it imports
nothing of flame_hub until a fixture runs). ``-p flame_hub.testing.pytest_plugin`` and
``pytest_plugins = ["flame_hub.testing.pytest_plugin"]`` keep working: they load that plugin, once.
"""

pytest_plugins = ["pytest_flame_hub"]
