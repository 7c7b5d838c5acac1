; C tags (also .h headers): see _c.scm.

; include: _c.scm
