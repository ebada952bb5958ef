"""``resource-repair``'s commands, one module each: its NAME, its one-line HELP, the options
it takes (``add_arguments``) and what it does with them (``run``), side by side. ``cli``
assembles the parser from its COMMANDS table; ``options`` holds what several commands share,
``exits`` how a command ends."""
