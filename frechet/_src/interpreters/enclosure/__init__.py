"""Taylor enclosures (Streeter and Dillon's AutoBound), the machinery below the primitives that
their enclosure rules are written in: `interval.py` (intervals with outward rounding),
`arithmetic.py` (interval polynomials in n variables), `elementary.py` (sharp one-dimensional
enclosures of elementary functions), `rules.py` (the value a rule sees, and the shared rules).
Each primitive family registers `prim.enclosure`; frechet.bounds interprets programs with them."""
