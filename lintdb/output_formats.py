"""The names `--output-format` and `output-format` accept (here alone, so the argument parser imports nothing else)."""

OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "github", "gitlab", "sarif", "junit", "pylint")
