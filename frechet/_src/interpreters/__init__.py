"""Interpreters over primitives: JVP/linearize and transpose (ad), batching, staging, Taylor
(jet), collapsed second order. They see `core` and `ir` only, never prims or the front end."""
