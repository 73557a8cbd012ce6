"""The test suite's helper modules and test data (golden/, data/, corpus/), imported as support.NAME."""
