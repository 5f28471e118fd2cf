"""Version of the package; kept equal to the npm package's (a test checks ``package.json``)."""

__version__ = "0.1.0"
