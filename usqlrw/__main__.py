from usqlrw.cli import run

run()
