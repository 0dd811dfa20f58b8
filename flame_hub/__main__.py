"""``python -m flame_hub``: the ``flame-hub`` command line."""

from .cli import main

if __name__ == "__main__":
    main()
