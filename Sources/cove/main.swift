import CoveCommands

CoveCommand.entry()
