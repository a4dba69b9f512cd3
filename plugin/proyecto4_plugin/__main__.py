import sys

from proyecto4_plugin.cli import main

sys.exit(main())
