#!/usr/bin/env python
"""Same as the ``amparo`` console command."""

from amparo.cli import main

if __name__ == "__main__":
    main()
