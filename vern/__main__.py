from vern.cli import main

main()
