"""The audience hub: a websockets server for phones, panel judges, finalists and the stage screen."""
