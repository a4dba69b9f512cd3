import sys
from pathlib import Path

# The chart tests' render helpers (helm binary choice, offline platform renders).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chart"))
