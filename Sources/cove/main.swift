import CoveCommands

await CoveCommand.entry()
