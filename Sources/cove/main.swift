import CoveCommands

CoveCommand.main()
