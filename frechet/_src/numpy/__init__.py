"""The NumPy front end: NumPy's API written as compositions of primitives."""
