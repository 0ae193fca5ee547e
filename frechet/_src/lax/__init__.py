"""lax: compound operations built on primitives (control flow, loops, while, checkpoint, custom
rules, linear solves, solvers, collectives, tape). Above prims, below the NumPy front end."""
