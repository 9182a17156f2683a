"""python -m kb: the command-line interface (kb.cli)."""
import sys

from kb.cli import main

if __name__ == "__main__":
    sys.exit(main())
