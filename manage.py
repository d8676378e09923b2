#!/usr/bin/env python
from qcity.cli import main

if __name__ == "__main__":
    main()
