"""A series of rounds: the record of what each round produced, the series scenario, and the
mechanisms that change the actors between rounds (`sim.series.mechanisms`)."""
