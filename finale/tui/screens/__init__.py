"""The console's screens: show, round, judging, panel, voting, standings, audit; and its modals."""
