"""The command line: each module registers one subcommand's parser and its run function."""
