from headerparse.cli import main

raise SystemExit(main())
