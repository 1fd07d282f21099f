"""Calendar feeds: tokens, the published life of each session, and the .ics files."""
