import sys

from snake_pipe.cli import main

sys.exit(main())
