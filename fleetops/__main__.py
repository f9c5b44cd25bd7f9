import sys

from fleetops.cli import main

sys.exit(main())
