"""``python -m retention_cli``."""

import gc

if gc.isenabled():  # off while the modules load, as in cli.main (which turns it back on)
    gc.disable()
    from retention_cli.cli import _GC_PAUSED

    _GC_PAUSED.append(True)

from retention_cli.cli import main

main()
