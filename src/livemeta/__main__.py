"""``python -m livemeta`` does what the ``livemeta`` command does."""

from .cli import main

if __name__ == "__main__":
    main()
