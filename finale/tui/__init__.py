"""The MC console: a Textual app that renders the store and sends intents to the Director."""
