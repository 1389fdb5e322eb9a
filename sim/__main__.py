"""`python -m sim`: see sim.cli."""

import logging
import os
import sys

from sim.cli import main

if __name__ == "__main__":
    main()
    if not {"-m", "--multirun"} & set(sys.argv[1:]):
        # A single run has written and closed every file by now: skip the interpreter's teardown
        # of the scientific stack (about a third of a second), which a command line never needs.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
