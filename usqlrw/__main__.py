from usqlrw.cli import main

raise SystemExit(main())
