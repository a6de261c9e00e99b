import sys
from pathlib import Path

# The package from this checkout, without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

pytest_plugins = ["faultdisk.pytest_plugin"]
