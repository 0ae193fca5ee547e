"""Interpreters over primitives: JVP/linearize and transpose (ad), batching, staging, Taylor
(jet), collapsed second order, and the interval arithmetic of Taylor enclosures (enclosure/)
that the primitives' enclosure rules are written in. They see `core` and `ir` only, never prims
or the front end."""
