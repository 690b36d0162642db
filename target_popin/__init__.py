"""target-popin: registers leads with Popin and books their video calls, never twice."""
