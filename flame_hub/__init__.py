"""flame-hub-client: the Python client for the FLAME Hub (auth, core, storage)."""

__version__ = "2.0.0.dev0"
