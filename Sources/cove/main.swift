import CoveCommands

await CoveCommand.start()
