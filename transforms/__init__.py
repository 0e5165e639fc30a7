"""leadpipe package."""
