"""The command line: a thin front end over the domain modules (argparse, for a fast start-up)."""
