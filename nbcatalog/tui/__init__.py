"""The Textual terminal app; the only package that imports textual (the CLI loads it lazily)."""
