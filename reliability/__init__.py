"""Evidence that the refund system loses nothing: load with faults, redrive, the API contract.

The services' own modules (the refund rule, the request contract) are imported the way Lambda
imports them, with services/ as an import root, so this package never holds a copy of a rule.
"""

import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SERVICES_DIR = REPOSITORY / "services"

if str(SERVICES_DIR) not in sys.path:
    sys.path.append(str(SERVICES_DIR))
