"""What plays when: the cycle of presets laid out in slots over the opening hours, from the clock alone."""
