from opsforge.cli.main import app

app()
