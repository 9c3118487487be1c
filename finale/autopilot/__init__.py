"""The autopilot: the whole show unattended, with simulated phones and panelists talking to the real hub.

`finale demo --autopilot` and `finale run EVENT.toml --autopilot` use it to rehearse
before the doors open; `bench/hub_load.py` measures how many phones one hub holds.
"""
