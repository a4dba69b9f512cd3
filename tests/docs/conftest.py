"""The docs tests read the CLIs' own definitions; the plugin is no workspace package, so it
is loaded from its folder as its own tests do."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))
