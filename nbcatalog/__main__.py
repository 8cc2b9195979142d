import sys

from nbcatalog.cli.main import main

sys.exit(main())
