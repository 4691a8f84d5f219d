"""``python -m retention_cli``."""

from retention_cli.cli import main

main()
