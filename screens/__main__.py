import sys

from screens.launch import main

sys.exit(main())
